"""Text views: logs."""
