"""A small labelled line plot drawn with QPainter: the fine-tune widget's live curves.

No plotting library: napari does not ship matplotlib's Qt backend in every install, and
two curves over a few hundred steps need only lines. Every plot has a title, axis names,
the value range on the y axis, the step range on the x axis and a legend; a single point
(one epoch so far) is drawn as a dot.
"""

from __future__ import annotations

import math
from typing import Optional

from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QPainter, QPen
from qtpy.QtWidgets import QSizePolicy, QWidget

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
Series = dict[str, list[tuple[float, float]]]


class CurvePlot(QWidget):
    """``set_series({"train loss": [(step, value), ...], ...})`` redraws the plot."""

    def __init__(self, title: str, xlabel: str = "step", ylabel: str = "value") -> None:
        super().__init__()
        self.title, self.xlabel, self.ylabel = title, xlabel, ylabel
        self.series: Series = {}
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def set_series(self, series: Series) -> None:
        self.series = {k: [(x, y) for x, y in v if math.isfinite(y)] for k, v in series.items()}
        self.update()

    def bounds(self) -> Optional[tuple[float, float, float, float]]:
        points = [p for values in self.series.values() for p in values]
        if not points:
            return None
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        if x1 == x0:
            x0, x1 = x0 - 1, x1 + 1
        if y1 == y0:
            pad = abs(y0) * 0.1 or 1.0
            y0, y1 = y0 - pad, y1 + pad
        return x0, x1, y0, y1

    def paintEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.fillRect(self.rect(), QColor("#262930"))
        text = QColor("#e0e0e0")
        painter.setPen(text)
        box = QRectF(68, 22, max(self.width() - 78, 10), max(self.height() - 56, 10))
        painter.drawText(QRectF(0, 2, self.width(), 18), Qt.AlignHCenter, self.title)
        painter.drawText(QRectF(box.left(), box.bottom() + 18, box.width(), 16), Qt.AlignHCenter, self.xlabel)
        painter.save()
        painter.translate(12, box.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-box.height() / 2, -10, box.height(), 16), Qt.AlignHCenter, self.ylabel)
        painter.restore()
        painter.setPen(QPen(QColor("#888888")))
        painter.drawRect(box)
        bounds = self.bounds()
        if bounds is None:
            painter.setPen(text)
            painter.drawText(box, Qt.AlignCenter, "no values yet")
            return
        self._draw_ticks(painter, box, bounds, text)
        self._draw_lines(painter, box, bounds)

    @staticmethod
    def _draw_ticks(painter: QPainter, box: QRectF, bounds: tuple[float, float, float, float], text: QColor) -> None:
        x0, x1, y0, y1 = bounds
        painter.setPen(text)
        painter.drawText(QRectF(0, box.top() - 6, box.left() - 4, 14), Qt.AlignRight, f"{y1:.3g}")
        painter.drawText(QRectF(0, box.bottom() - 8, box.left() - 4, 14), Qt.AlignRight, f"{y0:.3g}")
        painter.drawText(QRectF(box.left() - 20, box.bottom() + 2, 40, 14), Qt.AlignHCenter, f"{x0:.0f}")
        painter.drawText(QRectF(box.right() - 20, box.bottom() + 2, 40, 14), Qt.AlignHCenter, f"{x1:.0f}")

    def _draw_lines(self, painter: QPainter, box: QRectF, bounds: tuple[float, float, float, float]) -> None:
        x0, x1, y0, y1 = bounds

        def at(x: float, y: float) -> QPointF:
            return QPointF(box.left() + (x - x0) / (x1 - x0) * box.width(),
                           box.bottom() - (y - y0) / (y1 - y0) * box.height())

        for k, (name, values) in enumerate(self.series.items()):
            colour = QColor(COLOURS[k % len(COLOURS)])
            painter.setPen(QPen(colour, 2))
            points = [at(x, y) for x, y in values]
            for a, b in zip(points, points[1:]):
                painter.drawLine(a, b)
            painter.setBrush(colour)
            for p in points if len(points) < 30 else points[-1:]:
                painter.drawEllipse(p, 2.5, 2.5)
            legend_y = box.top() + 4 + 15 * k
            painter.drawLine(QPointF(box.right() - 120, legend_y + 6), QPointF(box.right() - 104, legend_y + 6))
            painter.drawText(QRectF(box.right() - 100, legend_y, 98, 14), Qt.AlignLeft, name)
