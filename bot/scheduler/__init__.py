"""Time-driven jobs: each an idempotent function of (now, store)."""
