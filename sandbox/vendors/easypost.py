"""Emulator of the easypost API (routes relative to the vendor base of DESIGN.md §4)."""

from fastapi import APIRouter

router = APIRouter()
