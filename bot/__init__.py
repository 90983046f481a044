"""paperbot: a Discord bot that keeps research communities on top of the daily papers."""

__version__ = "0.1.0"
