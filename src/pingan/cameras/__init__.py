"""The camera network: one registry over every owner, field of view, street
coverage, blind spots and placement planning (issue 5).

Cameras are places and sectors, never pictures: nothing here touches video.
"""
