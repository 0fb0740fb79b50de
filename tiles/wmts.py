"""OGC WMTS 1.0.0 GetCapabilities (RESTful) for one dataset: pure XML building, no I/O.

One layer per emission layer (``total`` and each sector) and one per sector's uncertainty
(``<sector>_uncertainty``), the ``WebMercatorQuad`` tile matrix set (zooms 0..maxzoom) and a
``Time`` dimension whose values are the dataset's days (``YYYY-MM-DD``), months (``YYYY-MM``,
monthly means) and years (``YYYY``, annual means).  Each layer's ResourceURL template is the tile
endpoint with ``date={Time}``, so WMTS clients (GDAL, QGIS, OpenLayers) fetch ordinary tiles.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from morecantile import TileMatrixSet

NS = {
    "": "http://www.opengis.net/wmts/1.0",
    "ows": "http://www.opengis.net/ows/1.1",
    "xlink": "http://www.w3.org/1999/xlink",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "gml": "http://www.opengis.net/gml",
}
SCHEMA = "http://www.opengis.net/wmts/1.0 http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd"


@dataclass(frozen=True)
class WmtsLayer:
    """One WMTS layer: identifier, title, abstract, its tile URL template (with ``{Time}`` etc.) and the
    URL and (width, height) of its default style's legend image (PNG)."""

    identifier: str
    title: str
    abstract: str
    template: str
    legend_url: str | None = None
    legend_size: tuple[int, int] | None = None


def _ows(tag: str) -> str:
    return f"{{{NS['ows']}}}{tag}"


def _w(tag: str) -> str:
    return f"{{{NS['']}}}{tag}"


def _text(parent: ET.Element, tag: str, text: str | None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = text
    return el


def capabilities_xml(*, title: str, abstract: str, capabilities_url: str, layers: Sequence[WmtsLayer],
                     tms: TileMatrixSet, maxzoom: int, bounds: tuple[float, float, float, float],
                     times: Sequence[str], default_time: str, media_type: str = "image/png",
                     tilesize: int = 256) -> bytes:
    """The GetCapabilities document (UTF-8 bytes).

    ``bounds`` (west, south, east, north) in degrees; ``times`` the Time dimension's values;
    ``tilesize`` the tiles' edge in pixels: 512 (``@2x`` templates) keeps each tile's extent, so the
    matrices' scale denominators halve and the set is named ``<tms id>@2x``.
    """
    ratio = tilesize / 256
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(_w("Capabilities"), {"version": "1.0.0", f"{{{NS['xsi']}}}schemaLocation": SCHEMA})
    ident = ET.SubElement(root, _ows("ServiceIdentification"))
    _text(ident, _ows("Title"), title)
    _text(ident, _ows("Abstract"), abstract)
    _text(ident, _ows("ServiceType"), "OGC WMTS")
    _text(ident, _ows("ServiceTypeVersion"), "1.0.0")
    ops = ET.SubElement(root, _ows("OperationsMetadata"))
    op = ET.SubElement(ops, _ows("Operation"), {"name": "GetCapabilities"})
    get = ET.SubElement(ET.SubElement(ET.SubElement(op, _ows("DCP")), _ows("HTTP")), _ows("Get"),
                        {f"{{{NS['xlink']}}}href": capabilities_url})
    constraint = ET.SubElement(get, _ows("Constraint"), {"name": "GetEncoding"})
    _text(ET.SubElement(constraint, _ows("AllowedValues")), _ows("Value"), "RESTful")

    tms_id = tms.id if ratio == 1 else f"{tms.id}@{ratio:g}x"
    contents = ET.SubElement(root, _w("Contents"))
    w, s, e, n = bounds
    for layer in layers:
        el = ET.SubElement(contents, _w("Layer"))
        _text(el, _ows("Title"), layer.title)
        _text(el, _ows("Abstract"), layer.abstract)
        bbox = ET.SubElement(el, _ows("WGS84BoundingBox"), {"crs": "urn:ogc:def:crs:OGC:2:84"})
        _text(bbox, _ows("LowerCorner"), f"{w} {s}")
        _text(bbox, _ows("UpperCorner"), f"{e} {n}")
        _text(el, _ows("Identifier"), layer.identifier)
        style = ET.SubElement(el, _w("Style"), {"isDefault": "true"})
        _text(style, _ows("Identifier"), "default")
        if layer.legend_url:
            legend = {"format": "image/png", f"{{{NS['xlink']}}}href": layer.legend_url}
            if layer.legend_size:
                legend.update(width=str(layer.legend_size[0]), height=str(layer.legend_size[1]))
            ET.SubElement(style, _w("LegendURL"), legend)
        _text(el, _w("Format"), media_type)
        dim = ET.SubElement(el, _w("Dimension"))
        _text(dim, _ows("Identifier"), "Time")
        _text(dim, _ows("Title"), "UTC day (YYYY-MM-DD), monthly mean (YYYY-MM) or annual mean (YYYY)")
        _text(dim, _ows("UOM"), "ISO8601")
        _text(dim, _w("Default"), default_time)
        for t in times:
            _text(dim, _w("Value"), t)
        link = ET.SubElement(el, _w("TileMatrixSetLink"))
        _text(link, _w("TileMatrixSet"), tms_id)
        ET.SubElement(el, _w("ResourceURL"), {"format": media_type, "resourceType": "tile",
                                              "template": layer.template})

    tms_el = ET.SubElement(contents, _w("TileMatrixSet"))
    _text(tms_el, _ows("Identifier"), tms_id)
    epsg = tms.crs.to_epsg()
    _text(tms_el, _ows("SupportedCRS"), f"urn:ogc:def:crs:EPSG::{epsg}" if epsg else "urn:ogc:def:crs:OGC:1.3:CRS84")
    for z in range(tms.minzoom, maxzoom + 1):
        m = tms.matrix(z)
        tm = ET.SubElement(tms_el, _w("TileMatrix"))
        _text(tm, _ows("Identifier"), str(z))
        _text(tm, _w("ScaleDenominator"), repr(float(m.scaleDenominator) / ratio))
        x0, y0 = m.pointOfOrigin
        _text(tm, _w("TopLeftCorner"), f"{float(x0)!r} {float(y0)!r}")
        _text(tm, _w("TileWidth"), str(round(m.tileWidth * ratio)))
        _text(tm, _w("TileHeight"), str(round(m.tileHeight * ratio)))
        _text(tm, _w("MatrixWidth"), str(m.matrixWidth))
        _text(tm, _w("MatrixHeight"), str(m.matrixHeight))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
