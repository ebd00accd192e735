"""Operating the bot: `incident-bot doctor` and the checks made at start-up."""
