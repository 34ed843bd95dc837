"""Colour themes for slides: light for projectors in lit rooms, dark for dark slide decks."""

from __future__ import annotations

from dataclasses import dataclass

from gradviz.registry import Registry

__all__ = ["Theme", "THEMES"]


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    foreground: str
    grid: str
    colormap: str
    contour_lines: str
    minimum: str
    trails: tuple[str, ...]


THEMES: Registry = Registry("theme")
THEMES.register("light", Theme(
    name="light", background="#ffffff", foreground="#222222", grid="#d0d0d0", colormap="Blues_r",
    contour_lines="#08306b", minimum="#ffd700",
    trails=("#e6194b", "#f58231", "#3cb44b", "#911eb4", "#f032e6", "#9a6324", "#000000", "#808000",
            "#ffe119", "#469990", "#800000", "#4363d8", "#aaffc3"),
))
THEMES.register("dark", Theme(
    name="dark", background="#0f1117", foreground="#e8e8e8", grid="#3a3d46", colormap="magma",
    contour_lines="#000000", minimum="#00e5ff",
    trails=("#4cc9f0", "#80ff72", "#ffffff", "#f72585", "#ffbe0b", "#b388ff", "#ff8c42", "#00f5d4",
            "#c0c0c0", "#ff4d6d", "#9ef01a", "#3a86ff", "#fee440"),
))
