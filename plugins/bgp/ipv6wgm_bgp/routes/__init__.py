"""/bgp routes: sessions and announcements."""
