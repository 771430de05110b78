"""The backup plugin: archives of every table, the system config and plugin contributions."""
