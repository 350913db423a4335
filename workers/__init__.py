"""Celery workers: derived work only (statistics, crash detection, housekeeping), never user data."""
