"""Live fetching from paper sources (aiohttp, retries, etiquette). Parsing lives in bot.parsing."""
