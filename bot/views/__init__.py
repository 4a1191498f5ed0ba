"""Slack views per feature, built on the shared block builders in bot/blocks.py."""
