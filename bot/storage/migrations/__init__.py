"""Alembic migrations for the bot's schema; run them with bot.storage.migrate.migrate()."""
