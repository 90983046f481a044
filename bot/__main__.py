"""``paperbot`` and ``python -m bot``: the command-line entry point."""

from __future__ import annotations


def main() -> None:
    from bot.cli import app

    app()


if __name__ == "__main__":
    main()
