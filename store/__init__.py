"""The store: SQLModel tables, async sessions and Alembic migrations (SQLite or PostgreSQL)."""
