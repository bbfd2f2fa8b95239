"""KPI reports for the DX office: periods, targets, the figures from the run log, and formats."""
