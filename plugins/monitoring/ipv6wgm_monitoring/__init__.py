"""Monitoring plugin: metric history, alert rules and notifications, Prometheus exposition."""
