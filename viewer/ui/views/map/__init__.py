"""Map views: GeoPoints and GeoLineStrings on longitude / latitude axes (no tiles)."""
