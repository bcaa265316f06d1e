"""Streamlit and Altair helpers shared by the dashboard pages."""
