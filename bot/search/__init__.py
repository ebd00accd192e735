"""Finding past incidents like a new one, over the docs repo's RCAs (the ranking library loads on first use)."""
