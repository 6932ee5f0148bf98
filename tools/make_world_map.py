"""Rebuild assets/map/world.json, the outlines the game's world map draws, from Natural Earth.

Why a script and a committed JSON file: the game must run offline and with nothing beyond its own
dependencies, so the map ships as small, plain data. This script is the only place that knows
about shapefiles; it runs once, by hand, when the map needs to change.

Source: Natural Earth 1:110m Admin-0 countries and populated places (public domain, "Made with
Natural Earth"), in the copy geopandas 0.14.4 ships inside its wheel (the last release that still
bundled them), so the download goes through the ordinary package index:

    .venv/bin/pip install pyshp          # tool-only dependency, not needed by the game
    .venv/bin/python tools/make_world_map.py
    # or, with the wheel already at hand:
    .venv/bin/python tools/make_world_map.py --wheel /tmp/geopandas-0.14.4-py3-none-any.whl

What it writes (see assets/map/README.md): every country polygon except Antarctica, projected
with an equirectangular projection (standard parallel 30 degrees, so mid-latitudes are not
stretched sideways), clipped to latitudes LAT_MIN..LAT_MAX, normalised to [0, 1] x [0, 1]
(x right, y down) and rounded to 4 decimals; points for places too small for 1:110m polygons
(Singapore, Hong Kong); the projection's parameters, so that the game projects the lat/lon of
assets/data/countries.yaml in exactly the same way.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "map" / "world.json"

GEOPANDAS_WHEEL = "geopandas==0.14.4"
COUNTRIES_STEM = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
CITIES_STEM = "geopandas/datasets/naturalearth_cities/naturalearth_cities"
SHAPEFILE_ENCODING = "latin-1"  # the .cpg files say ISO-8859-1

# Projection. Latitudes beyond this band are cropped: nothing in the game happens south of Cape
# Horn or in the high Arctic, and every row of pixels spent there is taken from the countries
# that matter. The standard parallel sets the x:y scale (cos 30 deg = 0.87).
LON_MIN, LON_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -56.0, 75.0
LAT_TS = 30.0
DECIMALS = 4

# Natural Earth marks a few countries' iso_a3 as -99 (France and Norway in some releases,
# because of overseas territories; Kosovo always). Map them by name.
ISO_BY_NAME = {"France": "FRA", "Norway": "NOR", "Kosovo": "XKX"}
DROP = {"ATA"}  # Antarctica: outside the band anyway
POINTS = {"SGP": "Singapore", "HKG": "Hong Kong"}  # too small for 1:110m polygons


def _need_pyshp():
    try:
        import shapefile  # pyshp
    except ImportError:
        sys.exit(
            "make_world_map.py reads Natural Earth shapefiles with pyshp, a tool-only dependency "
            "that the game itself does not need.\nInstall it with:  .venv/bin/pip install pyshp"
        )
    return shapefile


def fetch_wheel(dest: Path) -> Path:
    """Download the geopandas wheel (it carries the Natural Earth files) with pip."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", GEOPANDAS_WHEEL, "-d", dest],
        check=True,
    )
    wheels = sorted(dest.glob("geopandas-*.whl"))
    if not wheels:
        sys.exit(f"pip download {GEOPANDAS_WHEEL} produced no wheel in {dest}")
    return wheels[0]


def read_shapefile(wheel: zipfile.ZipFile, stem: str):
    """A pyshp Reader over one shapefile inside the wheel, without unpacking it to disk."""
    shapefile = _need_pyshp()
    files = {ext: io.BytesIO(wheel.read(f"{stem}.{ext}")) for ext in ("shp", "shx", "dbf")}
    return shapefile.Reader(**files, encoding=SHAPEFILE_ENCODING)


def project(lon: float, lat: float) -> tuple[float, float]:
    """lon/lat in degrees -> normalised map coordinates (x right, y down), unclipped."""
    x = (lon - LON_MIN) / (LON_MAX - LON_MIN)
    y = (LAT_MAX - lat) / (LAT_MAX - LAT_MIN)
    return x, y


def aspect() -> float:
    """Width over height of the projected map, which the renderer keeps when it fits a rect."""
    return (LON_MAX - LON_MIN) * math.cos(math.radians(LAT_TS)) / (LAT_MAX - LAT_MIN)


def clip_ring(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sutherland-Hodgman clip of a lon/lat ring to LAT_MIN <= lat <= LAT_MAX. A ring cut by the
    band keeps a straight edge along it, which is what a cropped map shows."""

    def clip(points, inside, cross):
        out = []
        for i, cur in enumerate(points):
            prev = points[i - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
        return out

    def at_lat(lat):
        def cross(a, b):
            t = (lat - a[1]) / (b[1] - a[1])
            return (a[0] + t * (b[0] - a[0]), lat)

        return cross

    pts = clip(ring, lambda p: p[1] <= LAT_MAX, at_lat(LAT_MAX))
    return clip(pts, lambda p: p[1] >= LAT_MIN, at_lat(LAT_MIN)) if pts else []


def signed_area(ring: list[tuple[float, float]]) -> float:
    """Shoelace area; in lon/lat (y up) shapefile outer rings are clockwise, i.e. negative."""
    return 0.5 * sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
    )


def point_in_ring(x: float, y: float, ring: list[tuple[float, float]]) -> bool:
    inside = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def flat_ring(ring: list[tuple[float, float]]) -> list[float]:
    """Projected, rounded and de-duplicated ring as a flat [x0, y0, x1, y1, ...] list (flat lists
    keep the JSON small; the renderer reshapes them)."""
    out: list[float] = []
    last = None
    for lon, lat in ring:
        x, y = project(lon, lat)
        p = (round(x, DECIMALS), round(y, DECIMALS))
        if p != last:
            out.extend(p)
            last = p
    if len(out) >= 4 and out[:2] == out[-2:]:
        del out[-2:]  # shapefile rings repeat their first point; the renderer closes them
    return out


def polygons_of(shape) -> list[list[list[float]]]:
    """A shape's parts grouped GeoJSON-style: [[outer, hole, ...], ...], clipped and projected."""
    bounds = list(shape.parts) + [len(shape.points)]
    spans = zip(bounds, bounds[1:], strict=False)
    rings = [[tuple(p) for p in shape.points[a:b]] for a, b in spans]
    outers, holes = [], []
    for ring in rings:
        (holes if signed_area(ring) > 0 else outers).append(ring)
    groups = [[outer] for outer in outers]
    for hole in holes:
        for group in groups:
            if point_in_ring(*hole[0], group[0]):
                group.append(hole)
                break
    polygons = []
    for group in groups:
        outer = flat_ring(clip_ring(group[0]))
        if len(outer) < 6:
            continue  # outside the latitude band, or smaller than the rounding
        holes_flat = [flat_ring(clip_ring(h)) for h in group[1:]]
        polygons.append([outer] + [h for h in holes_flat if len(h) >= 6])
    return polygons


def build(wheel_path: Path) -> dict:
    """The world.json document, from the Natural Earth files inside the geopandas wheel."""
    with zipfile.ZipFile(wheel_path) as wheel:
        countries_sf = read_shapefile(wheel, COUNTRIES_STEM)
        cities_sf = read_shapefile(wheel, CITIES_STEM)
        countries: dict[str, dict] = {}
        for sr in countries_sf.iterShapeRecords():
            rec = sr.record.as_dict()
            iso = rec["iso_a3"]
            if not (len(iso) == 3 and iso.isalpha()):
                iso = ISO_BY_NAME.get(rec["name"]) or sys.exit(f"no iso3 for {rec['name']!r}")
            if iso in DROP:
                continue
            polygons = polygons_of(sr.shape)
            if not polygons:
                continue
            if iso in countries:
                sys.exit(f"duplicate iso3 {iso} ({rec['name']})")
            countries[iso] = {
                "name": rec["name"],
                "continent": rec["continent"],
                "polygons": polygons,
            }
        points = {}
        by_name = {sr.record["name"]: sr.shape.points[0] for sr in cities_sf.iterShapeRecords()}
        for iso, name in POINTS.items():
            lon, lat = by_name[name]
            x, y = project(lon, lat)
            points[iso] = {
                "name": name,
                "lat": round(lat, 4),
                "lon": round(lon, 4),
                "x": round(x, DECIMALS),
                "y": round(y, DECIMALS),
            }
    return {
        "attribution": "Made with Natural Earth",
        "source": (
            "Natural Earth 1:110m Admin-0 countries and populated places, as bundled in the "
            f"{GEOPANDAS_WHEEL} wheel (naturalearth_lowres, naturalearth_cities)"
        ),
        "licence": "public domain (Natural Earth terms of use)",
        "generator": "tools/make_world_map.py",
        "projection": {
            "name": "equirectangular",
            "lon_min": LON_MIN,
            "lon_max": LON_MAX,
            "lat_min": LAT_MIN,
            "lat_max": LAT_MAX,
            "lat_ts": LAT_TS,
            "aspect": round(aspect(), 6),
            "note": "x = (lon - lon_min) / (lon_max - lon_min); "
            "y = (lat_max - lat) / (lat_max - lat_min); draw at width = aspect * height",
        },
        "countries": dict(sorted(countries.items())),
        "points": points,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded geopandas-0.14.4 wheel")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    _need_pyshp()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        doc = build(wheel)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    n_points = sum(len(r) // 2 for c in doc["countries"].values() for p in c["polygons"] for r in p)
    print(
        f"wrote {args.out} ({len(text) / 1024:.0f} KB): {len(doc['countries'])} countries, "
        f"{n_points} vertices, points {sorted(doc['points'])}"
    )


if __name__ == "__main__":
    main()
