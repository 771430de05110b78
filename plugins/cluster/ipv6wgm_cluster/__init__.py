"""The cluster plugin: one API driving many gateway nodes (membership, fenced leader, placement, drain)."""
