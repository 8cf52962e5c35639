"""``latm ui``: a local web inspector of the tool cache (``app``), its pages (``pages``) and charts
(``charts``), served on loopback; nothing a cached string holds is ever rendered as HTML."""
