"""Ratings (好差评) and the follow-ups of poor ones."""
