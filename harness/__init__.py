"""harness: benchmark and leaderboard harness for music emotion and theme recognition."""

__version__ = "0.1.0"
