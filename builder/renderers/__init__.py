"""Renderers: one module per output. Each turns a validated Project into artifacts.

The contract and the registry live in :mod:`builder.renderers.base`; a renderer knows
nothing about the other renderers (none imports another).
"""

from __future__ import annotations

from builder.renderers.base import (
    RENDERER_MODULES,
    RenderContext,
    Renderer,
    RenderError,
    Unit,
    registry,
)

__all__ = ["RENDERER_MODULES", "RenderContext", "RenderError", "Renderer", "Unit", "registry"]
