"""Dataframe views: component values of entities over a time range, as a sortable table."""
