#!/usr/bin/python3
"""What a screen reader hears of the app, through AT-SPI (python3-pyatspi, Debian's python3).

  probe.py tree APP     one JSON object per line for each node of APP's web page, in tree
                        (reading) order: role, name, description, states, object attributes,
                        actions, screen extents, depth.
  probe.py listen       prints "ready" once listening, then one JSON object per line for each
                        focus, text, children, name and showing event of any application, with
                        the live-region attributes of the source and its ancestors.

Run by tests/e2e/src/atspi.rs inside the suite's private D-Bus session (the accessibility bus is
started on demand through D-Bus activation of org.a11y.Bus)."""

import json
import signal
import sys

import pyatspi

LIVE_ROLES = {"alert", "status bar", "notification", "log", "timer", "marquee"}


def states(acc):
    try:
        return sorted(pyatspi.stateToString(s) for s in acc.getState().getStates())
    except Exception:
        return []


def attributes(acc):
    out = {}
    try:
        for kv in acc.getAttributes():
            k, _, v = kv.partition(":")
            out[k] = v
    except Exception:
        pass
    return out


def actions(acc):
    try:
        a = acc.queryAction()
        return [a.getName(i) for i in range(a.nActions)]
    except Exception:
        return []


def extents(acc):
    try:
        e = acc.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
        return [e.x, e.y, e.width, e.height]
    except Exception:
        return None


def text_of(acc, depth=0):
    """The text a reader would read for acc: its own text, else its children's."""
    if acc is None or depth > 6:
        return ""
    try:
        t = acc.queryText()
        s = t.getText(0, -1)
        if s and s.strip("\ufffc").strip():
            return s.replace("\ufffc", " ")
    except Exception:
        pass
    parts = [acc.name or ""]
    try:
        for c in acc:
            parts.append(text_of(c, depth + 1))
    except Exception:
        pass
    return " ".join(p for p in parts if p)


def node(acc, depth):
    return {
        "role": acc.getRoleName(),
        "name": acc.name or "",
        "description": acc.description or "",
        "states": states(acc),
        "attributes": attributes(acc),
        "actions": actions(acc),
        "extents": extents(acc),
        "depth": depth,
    }


def find_documents(acc, depth=0):
    if acc is None or depth > 12:
        return
    try:
        if acc.getRoleName() == "document web":
            yield acc
            return
        for c in acc:
            yield from find_documents(c, depth + 1)
    except Exception:
        return


def walk(acc, depth, out):
    if acc is None or depth > 60:
        return
    out.append(node(acc, depth))
    try:
        children = list(acc)
    except Exception:
        children = []
    for c in children:
        walk(c, depth + 1, out)


def tree(app_name):
    desktop = pyatspi.Registry.getDesktop(0)
    apps = [a for a in desktop if a is not None and a.name == app_name]
    if not apps:
        names = [a.name for a in desktop if a is not None]
        print(json.dumps({"error": f"no application {app_name!r} on the bus; there are {names}"}))
        return 1
    for app in apps:
        for doc in find_documents(app):
            out = []
            walk(doc, 0, out)
            for n in out:
                print(json.dumps(n, ensure_ascii=False))
            return 0
    print(json.dumps({"error": f"{app_name!r} has no web document"}))
    return 1


def live_context(acc):
    """The live-region politeness and role of acc or its nearest ancestor that has one."""
    cur = acc
    for _ in range(30):
        if cur is None:
            break
        attrs = attributes(cur)
        role = cur.getRoleName()
        for key in ("live", "container-live"):
            if attrs.get(key) in ("polite", "assertive"):
                return {"live": attrs[key], "live_role": role}
        if role in LIVE_ROLES:
            return {"live": "role", "live_role": role}
        try:
            cur = cur.parent
        except Exception:
            break
    return {"live": None, "live_role": None}


def listen():
    def on_event(ev):
        try:
            src = ev.source
            rec = {
                "type": ev.type,
                "detail1": ev.detail1,
                "role": src.getRoleName() if src else None,
                "name": (src.name or "") if src else "",
                "text": "",
            }
            data = ev.any_data
            if ev.type.startswith("object:text-changed"):
                rec["text"] = data if isinstance(data, str) else ""
            elif ev.type.startswith("object:children-changed") and data is not None:
                try:
                    rec["text"] = text_of(data)
                except Exception:
                    pass
            else:
                rec["text"] = text_of(src)
            rec.update(live_context(src))
            print(json.dumps(rec, ensure_ascii=False), flush=True)
        except Exception as e:  # a node gone meanwhile: say so, keep listening
            print(json.dumps({"type": "probe-error", "error": str(e)}), flush=True)

    pyatspi.Registry.registerEventListener(
        on_event,
        "object:state-changed:focused",
        "object:state-changed:showing",
        "object:text-changed:insert",
        "object:children-changed:add",
        "object:property-change:accessible-name",
        "object:announcement",
    )
    signal.signal(signal.SIGTERM, lambda *_: pyatspi.Registry.stop())
    print("ready", flush=True)
    pyatspi.Registry.start()
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "tree":
        sys.exit(tree(sys.argv[2]))
    if len(sys.argv) >= 2 and sys.argv[1] == "listen":
        sys.exit(listen())
    print(__doc__, file=sys.stderr)
    sys.exit(2)
