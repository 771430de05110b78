"""Routes of /api/v1/monitoring: metrics and the dashboard, alerts and rules, notifiers."""
