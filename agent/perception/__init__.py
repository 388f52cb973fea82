"""Turning frames into what logs and models need (images now; UI elements and OCR later)."""
