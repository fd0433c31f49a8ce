"""Block Kit as a terminal shows it: views and messages to rich renderables, controls numbered.

Pure functions of their arguments; controls are numbered in `blockkit.elements` order, so the
console's numbers and the screen always agree.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.emoji import Emoji, NoEmoji
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.style import Style
from rich.table import Table
from rich.text import Text

from bot.local.blockkit import (
    INTERACTIVE,
    JSON,
    STATE_KEYS,
    TEXT_INPUTS,
    control_numbers,
    elements,
    text_of,
)

Names = Mapping[str, str]

NUMBER = Style(color="cyan", bold=True)
DIM = Style(dim=True)
ERROR = Style(color="red", bold=True)
VALUE = Style(color="bright_white", bgcolor="grey23")
PLACEHOLDER = Style(color="grey50", italic=True, bgcolor="grey23")
CODE = Style(color="magenta")
LINK = Style(color="blue", underline=True)
MENTION = Style(color="blue", bold=True)
BUTTON_STYLES = {
    "primary": Style(color="green", bold=True, reverse=True),
    "danger": Style(color="red", bold=True, reverse=True),
}
BUTTON = Style(bold=True)
INDENT = 4

# Slack's mrkdwn: pre and code first (nothing inside them is formatting), then <…> entities,
# then *bold*, _italic_ and ~strike~ that open and close at word boundaries, then :emoji:.
_INLINE = re.compile(
    r"```(?P<pre>.+?)```"
    r"|`(?P<code>[^`\n]+)`"
    r"|<(?P<entity>[^<>\n]+)>"
    r"|(?<![\w*])\*(?P<bold>\S(?:[^*\n]*?\S)?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<italic>\S(?:[^_\n]*?\S)?)_(?![\w_])"
    r"|(?<![\w~])~(?P<strike>\S(?:[^~\n]*?\S)?)~(?![\w~])"
    r"|:(?P<emoji>[a-z0-9_+-]+):",
    re.DOTALL,
)
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_EMPHASIS = {
    "bold": Style(bold=True),
    "italic": Style(italic=True),
    "strike": Style(strike=True),
}


def _emoji(name: str) -> str:
    try:
        return str(Emoji(name))
    except NoEmoji:
        return f":{name}:"


def _unescape(text: str) -> str:
    # Slack escapes exactly these three in mrkdwn; anything else stays as typed.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _entity(body: str, names: Names, style: Style) -> Text:
    """`<@U1>`, `<#C1|name>`, `<!here>`, `<url|label>` or `<url>` as a reader sees them."""
    target, _, label = body.partition("|")
    label = _unescape(label)
    if target.startswith("@"):
        user = target[1:]
        return Text("@" + (names.get(user) or label or user), style + MENTION)
    if target.startswith("#"):
        return Text("#" + (label or target[1:]), style + MENTION)
    if target.startswith("!"):
        special = target[1:]
        if special in {"here", "channel", "everyone"}:
            return Text("@" + special, style + MENTION)
        return Text(label or special, style)
    url = _unescape(target)
    return Text(label or url, style + LINK + Style(link=url))


def _inline(out: Text, text: str, names: Names, style: Style) -> None:
    position = 0
    for match in _INLINE.finditer(text):
        out.append(_unescape(text[position : match.start()]), style)
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind in _EMPHASIS:
            _inline(out, value, names, style + _EMPHASIS[kind])
        elif kind in {"code", "pre"}:
            out.append(_unescape(value.strip("\n")), style + CODE)
        elif kind == "entity":
            out.append_text(_entity(value, names, style))
        else:
            out.append(_emoji(value), style)
        position = match.end()
    out.append(_unescape(text[position:]), style)


def mrkdwn(text: str, names: Names | None = None, *, style: Style | None = None) -> Text:
    """Slack mrkdwn as styled text: emphasis, code, links, mentions, emoji, unescaped &<>."""
    out = Text()
    _inline(out, text, names or {}, style or Style())
    return out


def text_object(obj: object, names: Names | None = None, *, style: Style | None = None) -> Text:
    """A Block Kit text object: mrkdwn formatted, plain_text with its :emoji: shown."""
    raw = text_of(obj)
    if isinstance(obj, Mapping) and obj.get("type") == "mrkdwn":
        return mrkdwn(raw, names, style=style)
    if isinstance(obj, Mapping) and obj.get("emoji", True) is not False:
        raw = _EMOJI.sub(lambda m: _emoji(m.group(1)), raw)
    return Text(raw, style or Style())


def _label(obj: object) -> str:
    return text_object(obj).plain


class _Blocks:
    """Renders one surface's blocks, numbering its controls as it meets them."""

    def __init__(
        self,
        state: Mapping[str, Any],
        errors: Mapping[str, str],
        names: Names,
        numbers: Sequence[int] | None,
    ) -> None:
        self.state = state
        self.errors = errors
        self.names = names
        # The numbers of the controls in reading order (None: messages, shown unnumbered).
        self.numbers = iter(numbers or ())
        self.numbered = numbers is not None

    def render(self, blocks: Sequence[JSON]) -> list[RenderableType]:
        shown: list[RenderableType] = []
        for i, block in enumerate(blocks):
            shown.append(self.block(block))
            # Air after headings, fields and inputs, as Slack leaves; list rows stay tight.
            spaced = block.get("type") in {"header", "input"} or bool(block.get("fields"))
            if spaced and i < len(blocks) - 1:
                shown.append(Text())
        return shown

    def number(self) -> Text:
        shown = Text()
        if self.numbered:
            shown.append(f"[{next(self.numbers)}]", NUMBER)
            shown.append(" ")
        return shown

    def text(self, obj: object, style: Style | None = None) -> Text:
        return text_object(obj, self.names, style=style)

    def block(self, block: JSON) -> RenderableType:
        kind = block.get("type")
        if kind == "header":
            return self.text(block.get("text"), Style(bold=True, underline=True))
        if kind == "section":
            return self.section(block)
        if kind == "context":
            return self.context(block)
        if kind == "divider":
            return Rule(style=DIM)
        if kind == "actions":
            return self.actions(block)
        if kind == "input":
            return self.input(block)
        if kind == "image":
            return self.image(block)
        return Text(f"[{kind} block]", DIM)

    def section(self, block: JSON) -> RenderableType:
        block_id = str(block.get("block_id", ""))
        parts: list[RenderableType] = []
        if block.get("text") is not None:
            parts.append(self.text(block["text"]))
        if block.get("fields"):
            grid = Table.grid(padding=(0, 3), expand=True)
            grid.add_column(ratio=1)
            grid.add_column(ratio=1)
            cells = [self.text(item) for item in block["fields"]]
            for i in range(0, len(cells), 2):
                grid.add_row(*cells[i : i + 2])
            parts.append(grid)
        body: RenderableType = parts[0] if len(parts) == 1 else Group(*parts)
        accessory = block.get("accessory")
        if not isinstance(accessory, Mapping):
            return body
        if accessory.get("type") == "image":
            side = Text(f"[image: {accessory.get('alt_text', '')}]", DIM)
        elif accessory.get("type") in INTERACTIVE:
            side = self.control(accessory, block_id)
        else:
            side = Text(f"[{accessory.get('type')}]", DIM)
        row = Table.grid(padding=(0, 2), expand=True)
        row.add_column(ratio=1)
        row.add_column(justify="right", no_wrap=True)
        row.add_row(body, side)
        return row

    def context(self, block: JSON) -> Text:
        line = Text(style=DIM)
        for i, item in enumerate(block.get("elements") or []):
            if i:
                line.append("  ")
            if isinstance(item, Mapping) and item.get("type") == "image":
                line.append(f"[{item.get('alt_text', 'image')}]")
            else:
                line.append_text(self.text(item, DIM))
        return line

    def actions(self, block: JSON) -> Text:
        block_id = str(block.get("block_id", ""))
        line = Text()
        for i, item in enumerate(block.get("elements") or []):
            if i:
                line.append("   ")
            if isinstance(item, Mapping) and item.get("type") in INTERACTIVE:
                line.append_text(self.control(item, block_id))
            else:
                line.append(f"[{item.get('type') if isinstance(item, Mapping) else item}]", DIM)
        return line

    def image(self, block: JSON) -> Text:
        title = _label(block.get("title")) if block.get("title") else ""
        alt = str(block.get("alt_text") or "")
        shown = Text(f"[image: {title or alt}]", DIM)
        url = block.get("image_url")
        if isinstance(url, str):
            shown.stylize(Style(link=url))
        return shown

    def control(self, element: Mapping[str, Any], block_id: str) -> Text:
        """A numbered control inline: button, overflow menu, select, choices, picker."""
        shown = self.number()
        shown.append_text(self.describe(element, block_id))
        return shown

    def describe(self, element: Mapping[str, Any], block_id: str) -> Text:
        kind = element.get("type")
        if kind == "button":
            style = BUTTON_STYLES.get(str(element.get("style")), BUTTON)
            label = _label(element.get("text"))
            shown = _styled(f" {label} " if style is not BUTTON else label, style)
            if element.get("url"):
                shown.append(" ↗", LINK + Style(link=str(element["url"])))
            return shown
        options = _options(element)
        if kind == "overflow":
            shown = _styled("⋯ ", BUTTON)
            shown.append_text(_joined(_label(o.get("text")) for o in options))
            return shown
        current = self.current(element, block_id)
        if kind in {"radio_buttons", "checkboxes"}:
            chosen = {o.get("value") for o in current} if isinstance(current, list) else set()
            if isinstance(current, Mapping):
                chosen = {current.get("value")}
            marks = ("◉", "○") if kind == "radio_buttons" else ("☑", "☐")
            shown = Text()
            for i, o in enumerate(options):
                if i:
                    shown.append("  ")
                shown.append(marks[0] if o.get("value") in chosen else marks[1])
                shown.append(" " + _label(o.get("text")))
            return shown
        shown = self.value(element, current)
        if kind not in TEXT_INPUTS:
            shown.append(" ▾", BUTTON)
        if options and kind in {"static_select", "multi_static_select"}:
            picked = current if isinstance(current, list) else [current]
            values = {o.get("value") for o in picked if isinstance(o, Mapping)}
            # One per line, numbered as `choose N M` takes them, the chosen ones marked.
            for i, option in enumerate(options, 1):
                mark = "▸" if option.get("value") in values else " "
                shown.append(f"\n {mark} {i:>2}. ", NUMBER if mark != " " else DIM)
                shown.append(_label(option.get("text")))
        return shown

    def current(self, element: Mapping[str, Any], block_id: str) -> Any:
        """What the element holds now (typed or chosen, else its initial value), or None."""
        kind = str(element.get("type"))
        if kind not in STATE_KEYS:
            return None
        key, initial_key = STATE_KEYS[kind]
        held = (self.state.get(block_id) or {}).get(element.get("action_id"))
        if isinstance(held, Mapping) and held.get("type") == kind:
            return held.get(key)
        # Messages carry no state: what shows is the element's initial value.
        return element.get(initial_key)

    def value(self, element: Mapping[str, Any], current: Any) -> Text:
        if current in (None, "", []):
            placeholder = _label(element.get("placeholder")) if element.get("placeholder") else ""
            # An empty box, as Slack shows it (a word here could be mistaken for typed text).
            return _styled(f" {placeholder} " if placeholder else " " * 12, PLACEHOLDER)
        if isinstance(current, Mapping):
            current = _label(current.get("text"))
        elif isinstance(current, list):
            current = ", ".join(
                _label(item.get("text")) if isinstance(item, Mapping) else self.who(str(item))
                for item in current
            )
        elif element.get("type") == "users_select":
            current = self.who(str(current))
        return _styled(f" {current} ", VALUE)

    def who(self, user_id: str) -> str:
        return "@" + self.names.get(user_id, user_id)

    def input(self, block: JSON) -> RenderableType:
        element = block.get("element")
        head = Text()
        lines: list[RenderableType] = [head]
        if isinstance(element, Mapping) and element.get("type") in INTERACTIVE:
            head.append_text(self.number())
        head.append_text(self.text(block.get("label"), Style(bold=True)))
        if block.get("optional"):
            head.append(" (optional)", DIM)
        if isinstance(element, Mapping):
            triggers = (element.get("dispatch_action_config") or {}).get("trigger_actions_on")
            if block.get("dispatch_action") and "on_character_entered" in (triggers or []):
                head.append(" · updates as you type", DIM)
            if element.get("type") in INTERACTIVE:
                shown = self.describe(element, str(block.get("block_id", "")))
            else:
                shown = Text(f"[{element.get('type')}]", DIM)
            lines.append(Padding(shown, (0, 0, 0, INDENT)))
        if block.get("hint"):
            lines.append(Padding(self.text(block["hint"], DIM), (0, 0, 0, INDENT)))
        error = self.errors.get(str(block.get("block_id", "")))
        if error:
            lines.append(Padding(Text("⚠ " + error, ERROR), (0, 0, 0, INDENT)))
        return Group(*lines)


def _styled(text: str, style: Style) -> Text:
    """Text styled in a span, so that what is appended to it later keeps its own style."""
    shown = Text()
    shown.append(text, style)
    return shown


def _options(element: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    groups = element.get("option_groups") or []
    nested = [o for g in groups if isinstance(g, Mapping) for o in g.get("options") or []]
    return [o for o in [*(element.get("options") or []), *nested] if isinstance(o, Mapping)]


def _joined(labels: Iterable[str]) -> Text:
    out = Text()
    for i, label in enumerate(labels):
        if i:
            out.append(" · ", DIM)
        out.append(label)
    return out


def render_blocks(
    blocks: Sequence[JSON],
    *,
    state: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    names: Names | None = None,
    late: Collection[str] = (),
    after: int | None = 0,
) -> list[RenderableType]:
    """One renderable per block; controls numbered as `control_numbers` says, from `after` + 1
    (None: shown unnumbered)."""
    found = elements(blocks)
    numbers = None if after is None else [after + n for n in control_numbers(found, late)]
    return _Blocks(state or {}, errors or {}, names or {}, numbers).render(blocks)


def view_title(view: Mapping[str, Any]) -> str:
    """A modal's title, or "Home" for the App Home tab."""
    return "Home" if view.get("type") == "home" else _label(view.get("title"))


def render_view(
    view: Mapping[str, Any],
    *,
    errors: Mapping[str, str] | None = None,
    names: Names | None = None,
    trail: Sequence[str] = (),
    width: int | None = None,
    late: Collection[str] = (),
) -> RenderableType:
    """A view in a titled frame; a modal's submit and close buttons become the frame's footer.

    `trail` names the modals beneath this one, root first; `errors` maps block ids to the field
    errors shown under their inputs; `late` blocks are numbered last (see `control_numbers`).
    """
    values = (view.get("state") or {}).get("values") or {}
    body = render_blocks(
        view.get("blocks") or [], state=values, errors=errors, names=names, late=late
    )
    title = Text()
    for crumb in trail:
        title.append(crumb, DIM)
        title.append(" › ", DIM)
    title.append(view_title(view), Style(bold=True))
    footer = None
    if view.get("type") != "home":
        footer = Text()
        if view.get("submit"):
            footer.append("submit", NUMBER)
            footer.append(f" = {_label(view['submit'])}   ")
        footer.append("back", NUMBER)
        footer.append(f" = {_label(view.get('close')) or 'Close'}")
    return Panel(
        Group(*body) if body else Text("(empty)", DIM),
        title=title,
        title_align="left",
        subtitle=footer,
        subtitle_align="right",
        border_style="magenta" if view.get("type") != "home" else "blue",
        width=width,
        padding=(0, 1),
    )


def render_message(
    text: str,
    blocks: Sequence[JSON],
    *,
    heading: str,
    names: Names | None = None,
    width: int | None = None,
    after: int | None = None,
) -> RenderableType:
    """A message from the app; its controls are numbered from `after` + 1 when given (the one
    message the console lets you act on), else shown unnumbered."""
    body: list[RenderableType] = (
        render_blocks(blocks, names=names, after=after) if blocks else [mrkdwn(text, names)]
    )
    return Panel(
        Group(*body),
        title=Text(heading, DIM),
        title_align="left",
        border_style="grey50",
        width=width,
        padding=(0, 1),
    )


def render_confirm(confirm: Mapping[str, Any], *, names: Names | None = None) -> RenderableType:
    """Slack's confirm dialog for a control that asks before acting."""
    answer = Text()
    answer.append("yes", NUMBER)
    answer.append(f" = {_label(confirm.get('confirm')) or 'Yes'}   ")
    answer.append("no", NUMBER)
    answer.append(f" = {_label(confirm.get('deny')) or 'Cancel'}")
    return Panel(
        Group(text_object(confirm.get("text"), names), Text(), answer),
        title=Text(_label(confirm.get("title")), Style(bold=True)),
        title_align="left",
        border_style="yellow",
        padding=(0, 1),
    )
