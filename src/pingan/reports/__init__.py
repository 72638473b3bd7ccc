"""Situation analysis: KPIs, briefings (HTML and PDF), the safety index and campaign evaluation."""
