"""discord.py extensions: the thin Discord layer (validate input, call a service, render the reply)."""
