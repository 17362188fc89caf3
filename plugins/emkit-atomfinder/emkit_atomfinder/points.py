"""Atom-column positions from masks and heatmaps, and Gaussian heatmaps from positions.

Everything here is plain torch and runs on the tensors' device (CPU or CUDA), so the task
derives its targets next to the model instead of in DataLoader workers.

Conventions: images are ``(B, 1, H, W)``; a point set is a ``(K, 2)`` float tensor of
``(y, x)`` positions in pixel-index units (the centre of pixel ``[i, j]`` is ``(i, j)``);
a batch of point sets is a Python list with one ``(K_b, 2)`` tensor per sample, because
the number of atom columns differs from image to image.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

PointSets = list[torch.Tensor]


def _check_maps(x: torch.Tensor, name: str) -> None:
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"{name} must have shape (B, 1, H, W), got {tuple(x.shape)}")


def local_max(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Maximum over the ``(2 radius + 1)^2`` window around every pixel of ``(B, C, H, W)``.

    Separable sliding maxima on padded views: on CPU this is several times faster than
    ``max_pool2d`` with stride 1, and it works for integer and float64 tensors alike.
    Outside the image counts as the lowest value of the dtype.
    """
    if radius <= 0:
        return x
    low = torch.finfo(x.dtype).min if x.is_floating_point() else torch.iinfo(x.dtype).min
    k = 2 * radius + 1
    out = x
    for dim in (-1, -2):
        pad = [0, 0, 0, 0]
        pad[0 if dim == -1 else 2] = radius
        pad[1 if dim == -1 else 3] = radius
        padded = F.pad(out, pad, value=low)
        n = out.shape[dim]
        acc = padded.narrow(dim, 0, n)
        for i in range(1, k):
            acc = torch.maximum(acc, padded.narrow(dim, i, n))
        out = acc
    return out


# ----------------------------------------------------------------- connected components ----
def label_components(mask: torch.Tensor) -> torch.Tensor:
    """Label the 8-connected foreground components of a ``(B, 1, H, W)`` mask.

    Returns a ``(B, 1, H, W)`` int64 map: 0 for background and, for every component, the
    largest ``index + 1`` (index = ``y * W + x`` within its sample) of its pixels.

    Max-propagation with pointer jumping: every round each foreground pixel takes the
    largest label in its 3x3 neighbourhood, then the label of the pixel its label names
    (that pixel is in the same component and holds a label at least as large). The
    number of rounds grows with the logarithm of a component's extent rather than with
    its length, and every round is a handful of whole-tensor operations.
    """
    _check_maps(mask, "mask")
    fg = mask > 0
    b, _, h, w = fg.shape
    dtype = torch.float32 if h * w < 2**24 else torch.float64  # exact integer labels
    ids = torch.arange(1, h * w + 1, device=mask.device, dtype=dtype).view(1, 1, h, w).expand(b, 1, h, w)
    zero = torch.zeros((), device=mask.device, dtype=dtype)
    labels = torch.where(fg, ids, zero)
    while True:
        grown = torch.where(fg, local_max(labels, 1), zero)
        flat = grown.view(b, h * w)
        jumped = torch.gather(flat, 1, (flat.long() - 1).clamp_min(0)).view(b, 1, h, w)
        grown = torch.where(fg, torch.maximum(grown, jumped), zero)
        if torch.equal(grown, labels):
            return labels.long()
        labels = grown


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-r, r + 1, device=x.device, dtype=torch.float32)
    k = torch.exp(-t * t / (2 * sigma * sigma))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0)), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r)), k.view(1, 1, -1, 1))


def mask_columns(mask: torch.Tensor, min_area: int = 1, merged_area: float = 1.6) -> PointSets:
    """Positions ``(y, x)`` of the atom columns marked by the discs of ``mask``, per sample.

    ``mask`` is ``(B, 1, H, W)``; > 0 is foreground. Every 8-connected component at least
    ``min_area`` pixels large is one column at its centroid -- except components larger
    than ``merged_area`` times the sample's median component (discs of neighbouring
    columns that touch: in ``synthetic-stem`` about 1 % of the components, e.g. in
    dumbbells). Those are split at the local maxima of the mask blurred to half the disc
    radius, each refined to sub-pixel precision; a component with a single maximum keeps
    its centroid. Points of a sample are in a fixed order for a given mask.
    """
    _check_maps(mask, "mask")
    b, _, h, w = mask.shape
    labels = label_components(mask)
    flat = labels.flatten()
    nz = torch.nonzero(flat).squeeze(1)
    if len(nz) == 0:
        return [torch.zeros(0, 2, device=mask.device) for _ in range(b)]
    sample_of_pixel = nz // (h * w)
    key = sample_of_pixel * (h * w) + flat[nz] - 1  # unique per component across the batch
    ids, inverse = torch.unique(key, return_inverse=True)
    rem = nz % (h * w)
    ys, xs = (rem // w).double(), (rem % w).double()
    area = torch.bincount(inverse, minlength=len(ids)).double()
    cy = torch.bincount(inverse, weights=ys, minlength=len(ids)) / area
    cx = torch.bincount(inverse, weights=xs, minlength=len(ids)) / area
    sample = ids // (h * w)
    keep = area >= min_area
    points, sample, area, ids = torch.stack([cy, cx], 1)[keep].float(), sample[keep], area[keep], ids[keep]

    out: PointSets = []
    for s in range(b):
        own = sample == s
        pts, own_area, own_ids = points[own], area[own], ids[own]
        if len(pts) == 0:
            out.append(pts)
            continue
        median = own_area.median()
        merged = own_area > merged_area * median
        if bool(merged.any()):
            pts = _split_merged(mask[s:s + 1], labels[s:s + 1], pts, own_ids - s * h * w + 1, merged,
                                radius=float(torch.sqrt(median / math.pi)))
        out.append(pts)
    return out


def _split_merged(mask: torch.Tensor, labels: torch.Tensor, points: torch.Tensor, comp_labels: torch.Tensor,
                  merged: torch.Tensor, radius: float) -> torch.Tensor:
    """Replace the centroids of merged components by the disc centres inside them."""
    blurred = _gaussian_blur((mask > 0).float(), max(0.5, radius / 2))
    peaks = find_peaks(blurred, threshold=0.5, radius=max(1, int(1.5 * radius)), subpixel=True)[0]
    if len(peaks) == 0:
        return points
    py = peaks[:, 0].round().long().clamp(0, mask.shape[-2] - 1)
    px = peaks[:, 1].round().long().clamp(0, mask.shape[-1] - 1)
    peak_label = labels[0, 0, py, px]
    keep, extra = torch.ones(len(points), dtype=torch.bool, device=points.device), []
    for i in torch.nonzero(merged).squeeze(1).tolist():
        inside = peaks[peak_label == comp_labels[i]]
        if len(inside) >= 2:
            keep[i] = False
            extra.append(inside)
    return torch.cat([points[keep], *extra]) if extra else points


# ------------------------------------------------------------------------ heatmaps -------
def render_heatmap(points: PointSets, shape: tuple[int, int], sigma: float,
                   device: torch.device | str | None = None) -> torch.Tensor:
    """``(B, 1, H, W)`` map of unit-height Gaussians centred on ``points``.

    Value at pixel ``p`` is ``max_k exp(-|p - c_k|^2 / (2 sigma^2))`` over the sample's
    points ``c_k`` (the max, not the sum, so close neighbours never exceed 1 and every
    column peaks at ~1 whatever its brightness: TEMImageNet's Gaussian-mask targets).
    Each point writes only its ``(2r+1)^2`` window, ``r = ceil(3 sigma)``, so the cost is
    linear in the number of columns.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    h, w = int(shape[0]), int(shape[1])
    b = len(points)
    if device is None:
        device = points[0].device if b else "cpu"
    out = torch.zeros(b * h * w, device=device)
    counts = [len(p) for p in points]
    if sum(counts) == 0:
        return out.view(b, 1, h, w)
    pts = torch.cat([p.to(device=device, dtype=torch.float32) for p in points])
    sample = torch.repeat_interleave(torch.arange(b, device=device), torch.tensor(counts, device=device))
    r = int(math.ceil(3 * sigma))
    offs = torch.arange(-r, r + 1, device=device)
    oy, ox = torch.meshgrid(offs, offs, indexing="ij")
    base = torch.round(pts)  # (K, 2)
    py = base[:, 0, None] + oy.flatten()[None]  # (K, (2r+1)^2)
    px = base[:, 1, None] + ox.flatten()[None]
    d2 = (py - pts[:, 0, None]) ** 2 + (px - pts[:, 1, None]) ** 2
    value = torch.exp(-d2 / (2.0 * sigma * sigma))
    inside = (py >= 0) & (py < h) & (px >= 0) & (px < w)
    flat = (sample[:, None] * h + py.long()) * w + px.long()
    out.scatter_reduce_(0, flat[inside], value[inside], reduce="amax", include_self=True)
    return out.view(b, 1, h, w)


# ------------------------------------------------------------------------ peaks ----------
def find_peaks(heatmap: torch.Tensor, threshold: float = 0.5, radius: int = 2,
               subpixel: bool = True) -> PointSets:
    """Local maxima of ``heatmap`` (``(B, 1, H, W)``) above ``threshold``, per sample.

    Non-maximum suppression by max pooling: a pixel is a peak when it is the maximum of
    its ``(2 radius + 1)^2`` window and exceeds ``threshold``. Exact ties inside a window
    (plateaus) keep one pixel, the first in raster order. With ``subpixel`` each peak is
    refined by fitting a parabola to the log of its 3-point neighbourhood along y and x,
    which is exact for a sampled Gaussian; offsets are clamped to half a pixel.
    """
    _check_maps(heatmap, "heatmap")
    if radius < 1:
        raise ValueError(f"radius must be >= 1, got {radius}")
    h = heatmap.detach().float()
    b, _, hh, ww = h.shape
    candidate = (h >= local_max(h, radius)) & (h > threshold)
    # Plateaus: among equal candidates within a window, keep the first in raster order.
    order = torch.arange(b * hh * ww, 0, -1, device=h.device, dtype=torch.float64).view(b, 1, hh, ww)
    rank = torch.where(candidate, order, torch.zeros_like(order))
    candidate &= rank >= local_max(rank, radius)
    idx = torch.nonzero(candidate.flatten()).squeeze(1)
    rem = idx % (hh * ww)
    y, x = (rem // ww), (rem % ww)
    sample = idx // (hh * ww)
    pts = torch.stack([y, x], 1).float()
    if subpixel and len(idx):
        logs = torch.log(h.clamp_min(1e-6))
        padded = F.pad(logs, (1, 1, 1, 1), mode="replicate")[:, 0]
        s, yy, xx = sample, y + 1, x + 1
        centre = padded[s, yy, xx]
        for axis, (lo, hi) in enumerate(((padded[s, yy - 1, xx], padded[s, yy + 1, xx]),
                                         (padded[s, yy, xx - 1], padded[s, yy, xx + 1]))):
            curvature = lo - 2 * centre + hi
            offset = torch.where(curvature < 0, 0.5 * (lo - hi) / curvature.clamp(max=-1e-12),
                                 torch.zeros_like(curvature))
            pts[:, axis] += offset.clamp(-0.5, 0.5)
    per_sample = torch.bincount(sample, minlength=b).tolist()
    return list(torch.split(pts, per_sample))
