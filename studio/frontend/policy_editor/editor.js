/*
 * The studio's policy editor (策略编辑器), a Streamlit custom component written by hand: no
 * streamlit-component-lib, no build step, nothing fetched from the network.
 *
 * The protocol (Streamlit's components API, version 1), spoken with window.postMessage:
 *
 *   editor → Streamlit  window.parent.postMessage({isStreamlitMessage: true, type, ...}, "*")
 *     "streamlit:componentReady"     {apiVersion: 1}            once, when this script has run
 *     "streamlit:setFrameHeight"     {height}                   whenever the content's height changes
 *     "streamlit:setComponentValue"  {value, dataType: "json"}  value = {text, revision}: sent
 *                                    `debounce_ms` after typing stops (never in the middle of an
 *                                    IME composition), at once when the box loses focus or on
 *                                    Ctrl+Enter / Ctrl+S
 *   Streamlit → editor  a "message" event {type: "streamlit:render", args, disabled, theme}
 *     args: text, revision (bumped by Python when it replaces the text: a version loaded, the
 *           text formatted), marks (the diagnostics of `text`), notes (each quote of `text`
 *           found in its document: where it stands, the document's title, the passage around
 *           it and the quoted words' [start, end) offsets in it), language (keywords and token
 *           patterns derived from the grammar), height, debounce_ms
 *
 * The text the user is typing is never overwritten by a render of the same revision: the render
 * that follows a sent value carries the text as it was then, the user may have typed on since.
 * Only a new revision replaces the text (held back until an IME composition ends).
 *
 * Drawing: a <textarea> with transparent text over a <pre> that shows the same text coloured,
 * scrolled with it; a gutter of line numbers with a marker where a diagnostic starts; each
 * diagnostic underlined where it points, its message in a tooltip when the pointer is on it and in
 * the list under the editor (a click there moves the caret to it). The text and the diagnostics'
 * messages and hints are only ever set as text (text nodes, textContent, title), never as HTML:
 * a `<img onerror=…>` typed in a string or quoted by a message shows as those characters. A
 * quote found in its document gets a dotted underline whose tooltip is its passage, the quoted
 * words highlighted; it is no diagnostic: not counted, not listed, and under any diagnostic at
 * the same place.
 */
(function () {
  "use strict";

  var DEFAULT_DEBOUNCE = 400;
  var byId = function (id) {
    return document.getElementById(id);
  };
  var editor = byId("editor");
  var numbers = byId("numbers");
  var colours = byId("colours");
  var text = byId("text");
  var tooltip = byId("tooltip");
  var position = byId("position");
  var here = byId("here");
  var stateLabel = byId("state");
  var problems = byId("problems");

  var state = {
    revision: null, // the revision of the text Python last set; null until the first render
    sent: null, // the text last sent to Python (or received from it)
    checked: null, // the text the diagnostics were computed for
    marks: [], // the diagnostics of `checked`, as Python sends them
    notes: [], // the quotes of `checked` found in their documents, with their passages
    timer: 0,
    composing: false,
    deferred: null, // a render replacing the text, held back while an IME composition runs
    debounce: DEFAULT_DEBOUNCE,
    lexer: null,
    languageKey: "",
    height: -1, // the frame height last reported
    rows: [], // the key of each row of the coloured text, as shown
    gutterKey: "",
    activeLine: 0,
    escapeTab: false,
    hoverEvent: null,
    hoverFrame: 0,
    sentCount: 0, // values sent so far (shown as data-sent, for the browser test)
  };
  var rowCache = new Map();

  // ---- the protocol ------------------------------------------------------------------------

  function post(type, data) {
    var message = { isStreamlitMessage: true, type: type };
    for (var name in data) message[name] = data[name];
    window.parent.postMessage(message, "*");
  }

  /** Send the text to Python (Streamlit reruns the page, which checks it and renders back). */
  function sendValue() {
    clearTimeout(state.timer);
    state.timer = 0;
    if (state.revision === null || state.composing) return;
    var value = text.value;
    if (value === state.sent) return;
    state.sent = value;
    state.sentCount += 1;
    editor.dataset.sent = String(state.sentCount);
    post("streamlit:setComponentValue", {
      value: { text: value, revision: state.revision },
      dataType: "json",
    });
    showState();
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(sendValue, state.debounce);
  }

  function reportHeight() {
    var height = Math.ceil(document.body.getBoundingClientRect().height) + 2;
    if (height !== state.height) {
      state.height = height;
      post("streamlit:setFrameHeight", { height: height });
    }
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) return;
    var data = event.data;
    if (data && data.type === "streamlit:render") render(data);
  });

  function render(data) {
    var args = data.args || {};
    applyTheme(data.theme);
    setLanguage(args.language);
    state.debounce = Number(args.debounce_ms) > 0 ? Number(args.debounce_ms) : DEFAULT_DEBOUNCE;
    if (Number(args.height) > 0) editor.style.height = Number(args.height) + "px";
    var incoming = String(args.text == null ? "" : args.text).replace(/\r\n?/g, "\n");
    if (args.revision !== state.revision) {
      if (state.composing) {
        state.deferred = data;
        return;
      }
      state.revision = args.revision;
      if (text.value !== incoming) replaceText(incoming);
      state.sent = incoming;
      clearTimeout(state.timer);
      state.timer = 0;
    }
    state.checked = incoming;
    state.marks = Array.isArray(args.marks) ? args.marks.slice() : [];
    state.marks.sort(function (a, b) {
      return a.line - b.line || a.column - b.column;
    });
    state.notes = (Array.isArray(args.notes) ? args.notes : []).map(function (note) {
      var copy = Object.assign({}, note);
      copy.severity = "note";
      return copy;
    });
    text.disabled = false;
    text.readOnly = !!data.disabled;
    editor.dataset.ready = "true";
    paint();
    showProblems();
    onCaret();
    reportHeight();
  }

  function replaceText(value) {
    var caret = Math.min(text.selectionStart || 0, value.length);
    var top = text.scrollTop;
    var left = text.scrollLeft;
    text.value = value;
    text.setSelectionRange(caret, caret);
    text.scrollTop = top;
    text.scrollLeft = left;
  }

  function applyTheme(theme) {
    if (!theme) return;
    document.documentElement.classList.toggle("dark", theme.base === "dark");
    if (theme.font) document.body.style.fontFamily = theme.font;
  }

  // ---- colouring: the grammar's keywords and token patterns, sent by Python ------------------

  function setLanguage(language) {
    if (!language) return;
    var key = JSON.stringify(language);
    if (key === state.languageKey) return;
    var sticky = function (source) {
      return new RegExp(source, "y");
    };
    state.lexer = {
      keywords: new Set(language.keywords),
      comment: sticky(language.comment),
      string: sticky(language.string),
      openString: sticky(language.open_string),
      literals: language.literals.map(sticky),
      name: sticky(language.name),
      operators: sticky(language.operators),
      space: /[ \t]+/y,
    };
    state.languageKey = key;
    rowCache.clear();
    state.rows = [];
    colours.textContent = "";
  }

  function matchAt(pattern, line, at) {
    pattern.lastIndex = at;
    var found = pattern.exec(line);
    return found ? found[0].length : 0;
  }

  /** [start, end, kind] for each token of a line; kind "" for spaces and the unknown. */
  function tokenize(line) {
    var lexer = state.lexer;
    var tokens = [];
    var at = 0;
    while (at < line.length) {
      var kind = "";
      var size = matchAt(lexer.space, line, at);
      if (size) {
        kind = "";
      } else if ((size = matchAt(lexer.comment, line, at))) {
        kind = "comment";
      } else if (
        (size = matchAt(lexer.string, line, at)) ||
        (size = matchAt(lexer.openString, line, at))
      ) {
        kind = "string";
      } else if ((size = first(lexer.literals, line, at))) {
        kind = "literal";
      } else if ((size = matchAt(lexer.name, line, at))) {
        kind = lexer.keywords.has(line.substr(at, size)) ? "keyword" : "name";
      } else if ((size = matchAt(lexer.operators, line, at))) {
        kind = "op";
      } else {
        size = line.codePointAt(at) > 0xffff ? 2 : 1;
      }
      tokens.push([at, at + size, kind]);
      at += size;
    }
    return tokens;
  }

  /** The first pattern that matches (literals come in the grammar's order of priority). */
  function first(patterns, line, at) {
    for (var i = 0; i < patterns.length; i++) {
      var size = matchAt(patterns[i], line, at);
      if (size) return size;
    }
    return 0;
  }

  // ---- diagnostics: where each one is drawn ---------------------------------------------------

  function clamp(value, low, high) {
    return Math.max(low, Math.min(high, value));
  }

  /** The UTF-16 index of a code-point column (Python counts code points, JavaScript units). */
  function unitIndex(line, points) {
    if (points <= 0) return 0;
    if (!/[\uD800-\uDFFF]/.test(line)) return points;
    var at = 0;
    for (var n = 0; at < line.length && n < points; n++) at += line.codePointAt(at) > 0xffff ? 2 : 1;
    return at;
  }

  /** The diagnostic or quote note a drawn stretch stands for (`data-mark`: "3" or "n3"). */
  function markOf(key) {
    if (String(key).charAt(0) === "n") return state.notes[Number(String(key).slice(1))];
    return state.marks[Number(key)];
  }

  /** Per line index, the stretches to underline: {start, end, severity, index, eol}; the quote
   * notes first, so that a diagnostic at the same place is drawn over them. */
  function lineMarks(lines) {
    var byLine = new Map();
    var drawn = state.notes
      .map(function (note, i) {
        return [note, "n" + i];
      })
      .concat(
        state.marks.map(function (mark, i) {
          return [mark, String(i)];
        })
      );
    drawn.forEach(function (pair) {
      var mark = pair[0];
      var index = pair[1];
      var first = clamp(mark.line || 1, 1, lines.length) - 1;
      var last = clamp(Math.max(mark.end_line || 0, mark.line || 1), 1, lines.length) - 1;
      for (var i = first; i <= last; i++) {
        var line = lines[i];
        var indent = line.length - line.replace(/^[ \t]+/, "").length;
        var start = i === first && mark.line >= 1 ? unitIndex(line, mark.column - 1) : indent;
        var end = i === last && mark.end_line >= 1 ? unitIndex(line, mark.end_column - 1) : line.length;
        start = clamp(start, 0, line.length);
        end = clamp(end, 0, line.length);
        if (end <= start) end = Math.min(start + 1, line.length);
        if (!byLine.has(i)) byLine.set(i, []);
        byLine.get(i).push({
          start: start,
          end: end,
          severity: mark.severity,
          index: index,
          eol: end <= start,
          head: i === first,
        });
      }
    });
    return byLine;
  }

  function worst(items) {
    var found = "";
    for (var i = 0; i < items.length; i++) {
      if (items[i].severity === "error") return "error";
      if (items[i].severity !== "note") found = "warning";
    }
    return found;
  }

  /**
   * A row of the coloured text: its class, its pieces [text, classes, mark index] and a key
   * that changes whenever what is drawn changes. The text only ever becomes a text node
   * (`rowNode`), never HTML.
   */
  function row(line, marks) {
    if (!marks && rowCache.has(line)) return rowCache.get(line);
    var tokens = tokenize(line);
    var pieces = [];
    var rowClass = "row";
    if (!marks) {
      for (var t = 0; t < tokens.length; t++) pieces.push(piece(line, tokens[t], "", null));
    } else {
      rowClass += " " + worst(marks);
      var severity = new Array(line.length).fill("");
      var owner = new Array(line.length).fill(null);
      marks.forEach(function (mark) {
        for (var k = mark.start; k < mark.end; k++) {
          if (severity[k] !== "error") {
            severity[k] = mark.severity;
            owner[k] = mark.index;
          }
        }
      });
      tokens.forEach(function (token) {
        var from = token[0];
        for (var k = token[0] + 1; k <= token[1]; k++) {
          if (k === token[1] || severity[k] !== severity[from] || owner[k] !== owner[from]) {
            pieces.push(piece(line, [from, k, token[2]], severity[from], owner[from]));
            from = k;
          }
        }
      });
      marks.forEach(function (mark) {
        if (mark.eol) pieces.push([" ", "mk eol " + mark.severity, mark.index]);
      });
    }
    var drawn = { className: rowClass, pieces: pieces };
    drawn.key = rowClass + "\u0000" + JSON.stringify(pieces);
    if (!marks) {
      if (rowCache.size > 20000) rowCache.clear();
      rowCache.set(line, drawn);
    }
    return drawn;
  }

  function piece(line, token, severity, owner) {
    var classes = (token[2] ? "tk-" + token[2] : "") + (severity ? " mk " + severity : "");
    return [line.slice(token[0], token[1]), classes.trim(), severity ? owner : null];
  }

  /** The element of a row: spans whose text is set as text (textContent), never as HTML. */
  function rowNode(drawn) {
    var node = document.createElement("span");
    node.className = drawn.className;
    drawn.pieces.forEach(function (part) {
      if (!part[1]) {
        node.appendChild(document.createTextNode(part[0]));
        return;
      }
      var span = document.createElement("span");
      span.className = part[1];
      // the key of its diagnostic ("3") or quote note ("n3"), a string: not compared as a number
      if (part[2] !== null) span.dataset.mark = String(part[2]);
      span.textContent = part[0];
      node.appendChild(span);
    });
    return node;
  }

  // ---- painting -------------------------------------------------------------------------------

  function paint() {
    if (!state.lexer) return;
    var lines = text.value.split("\n");
    var marks = lineMarks(lines);
    var next = lines.map(function (line, i) {
      return row(line, marks.get(i));
    });
    paintRows(next);
    paintGutter(lines.length);
    editor.classList.toggle("stale", text.value !== state.checked);
    setActive(state.activeLine, true);
    syncScroll();
    showState();
  }

  /** Replace only the rows that changed (typing touches one or two rows, not the whole file). */
  function paintRows(next) {
    var shown = state.rows;
    var keys = next.map(function (drawn) {
      return drawn.key;
    });
    var head = 0;
    while (head < shown.length && head < keys.length && shown[head] === keys[head]) head++;
    var tail = 0;
    while (
      tail < shown.length - head &&
      tail < keys.length - head &&
      shown[shown.length - 1 - tail] === keys[keys.length - 1 - tail]
    ) {
      tail++;
    }
    var rows = colours.children;
    for (var k = shown.length - tail - 1; k >= head; k--) rows[k].remove();
    var fresh = document.createDocumentFragment();
    next.slice(head, next.length - tail).forEach(function (drawn) {
      fresh.appendChild(rowNode(drawn));
    });
    colours.insertBefore(fresh, rows[head] || null);
    state.rows = keys;
  }

  function paintGutter(count) {
    var heads = new Map();
    state.marks.forEach(function (mark) {
      var i = clamp(mark.line || 1, 1, count);
      if (!heads.has(i)) heads.set(i, []);
      heads.get(i).push(mark);
    });
    var key = count + "|" + JSON.stringify(Array.from(heads.entries()));
    if (key === state.gutterKey) return;
    state.gutterKey = key;
    var fresh = document.createDocumentFragment();
    for (var i = 1; i <= count; i++) {
      var found = heads.get(i);
      var severity = found ? worst(found) : "";
      var line = document.createElement("div");
      line.className = severity ? "g " + severity : "g";
      line.dataset.line = String(i);
      if (found) {
        line.title = found
          .map(function (m) {
            return m.code + ": " + m.message + (m.hint ? "\nhint: " + m.hint : "");
          })
          .join("\n");
      }
      var mark = document.createElement("span");
      mark.className = "mark";
      mark.textContent = severity ? (severity === "error" ? "●" : "▲") : "";
      var number = document.createElement("span");
      number.className = "no";
      number.textContent = String(i);
      line.append(mark, number);
      fresh.appendChild(line);
    }
    numbers.replaceChildren(fresh);
  }

  function syncScroll() {
    var x = text.scrollLeft;
    var y = text.scrollTop;
    colours.style.transform = "translate(" + -x + "px," + -y + "px)";
    numbers.style.transform = "translateY(" + -y + "px)";
  }

  function setActive(line, force) {
    if (line === state.activeLine && !force) return;
    var previous = state.activeLine;
    state.activeLine = line;
    [colours, numbers].forEach(function (parent) {
      var old = parent.children[previous - 1];
      if (old) old.classList.remove("active");
      var now = parent.children[line - 1];
      if (now) now.classList.add("active");
    });
  }

  // ---- caret, status bar, list of diagnostics ---------------------------------------------------

  function caretPlace() {
    var before = text.value.slice(0, text.selectionStart);
    var line = before.split("\n").length;
    var start = before.lastIndexOf("\n") + 1;
    return { line: line, column: Array.from(before.slice(start)).length + 1 };
  }

  function onCaret() {
    var place = caretPlace();
    setActive(place.line, false);
    position.textContent = "Ln " + place.line + ", Col " + place.column;
    var found = state.marks.filter(function (m) {
      return (m.line || 1) <= place.line && place.line <= Math.max(m.end_line || 0, m.line || 1);
    });
    here.className = "here " + worst(found);
    here.textContent = found
      .map(function (m) {
        return m.code + " " + m.message + (m.hint ? " — " + m.hint : "");
      })
      .join(" · ");
  }

  function showState() {
    var label;
    var kind = "";
    if (state.revision === null) {
      label = "loading…";
    } else if (text.value !== state.checked) {
      label = "checking…";
    } else {
      var errors = state.marks.filter(function (m) {
        return m.severity === "error";
      }).length;
      var warnings = state.marks.length - errors;
      if (!state.marks.length) {
        label = "✓ checks clean";
        kind = "clean";
      } else {
        label = [
          errors ? errors + (errors > 1 ? " errors" : " error") : "",
          warnings ? warnings + (warnings > 1 ? " warnings" : " warning") : "",
        ]
          .filter(Boolean)
          .join(", ");
        kind = errors ? "error" : "warning";
      }
    }
    stateLabel.textContent = label;
    stateLabel.className = "state " + kind;
    editor.dataset.checked = String(state.revision !== null && text.value === state.checked);
  }

  function showProblems() {
    var items = state.marks.map(function (mark) {
      var item = document.createElement("li");
      item.className = mark.severity;
      item.tabIndex = 0;
      item.dataset.line = mark.line;
      var parts = [
        ["sev", mark.severity === "error" ? "●" : "▲"],
        ["where", "line " + mark.line + ":" + mark.column],
        ["what", ""],
      ];
      parts.forEach(function (part) {
        var piece = document.createElement("span");
        piece.className = part[0];
        piece.textContent = part[1];
        item.appendChild(piece);
      });
      var what = item.lastChild;
      var code = document.createElement("b");
      code.textContent = mark.code;
      what.appendChild(code);
      what.appendChild(document.createTextNode(" " + mark.message));
      if (mark.hint) {
        var hint = document.createElement("span");
        hint.className = "hint";
        hint.textContent = " — hint: " + mark.hint;
        what.appendChild(hint);
      }
      item.addEventListener("click", function () {
        jumpTo(mark);
      });
      item.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          jumpTo(mark);
        }
      });
      return item;
    });
    problems.replaceChildren.apply(problems, items);
  }

  /** Put the caret on a diagnostic (its stretch selected) and scroll its line into view. */
  function jumpTo(mark) {
    var lines = text.value.split("\n");
    var line = clamp(mark.line || 1, 1, lines.length);
    var offset = 0;
    for (var i = 0; i < line - 1; i++) offset += lines[i].length + 1;
    var start = offset + clamp(unitIndex(lines[line - 1], (mark.column || 1) - 1), 0, lines[line - 1].length);
    var end = start;
    if ((mark.end_line || 0) === mark.line && mark.end_column > mark.column) {
      end = offset + clamp(unitIndex(lines[line - 1], mark.end_column - 1), 0, lines[line - 1].length);
    }
    text.focus();
    text.setSelectionRange(start, end);
    var lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 20;
    text.scrollTop = Math.max(0, (line - 1) * lineHeight - text.clientHeight / 3);
    syncScroll();
    onCaret();
  }

  // ---- the tooltip of a marked stretch ------------------------------------------------------------

  function hover() {
    state.hoverFrame = 0;
    var event = state.hoverEvent;
    if (!event) return;
    var marked = colours.querySelectorAll(".mk");
    for (var i = 0; i < marked.length; i++) {
      var rects = marked[i].getClientRects();
      for (var r = 0; r < rects.length; r++) {
        var box = rects[r];
        var inside =
          event.clientX >= box.left - 1 &&
          event.clientX <= box.right + 1 &&
          event.clientY >= box.top - 1 &&
          event.clientY <= box.bottom + 3;
        if (inside) {
          showTip(markOf(marked[i].dataset.mark), event.clientX, box.bottom);
          return;
        }
      }
    }
    hideTip();
  }

  function showTip(mark, x, y) {
    if (!mark) return hideTip();
    tooltip.replaceChildren();
    var code = document.createElement("span");
    code.className = "tip-code";
    if (mark.severity === "note") {
      code.textContent = "《" + mark.document + "》";
      tooltip.appendChild(code);
      tooltip.appendChild(document.createTextNode("\n"));
      appendPassage(mark.text, mark.marks);
      tooltip.dataset.code = "passage";
    } else {
      code.textContent = mark.severity + " " + mark.code;
      tooltip.appendChild(code);
      tooltip.appendChild(
        document.createTextNode(
          " (line " + mark.line + ", column " + mark.column + ")\n" + mark.message +
            (mark.hint ? "\nhint: " + mark.hint : "")
        )
      );
      tooltip.dataset.code = mark.code;
    }
    tooltip.hidden = false;
    var frame = editor.getBoundingClientRect();
    var left = clamp(x - frame.left + 8, 4, Math.max(4, frame.width - tooltip.offsetWidth - 4));
    var top = y - frame.top + 4;
    if (top + tooltip.offsetHeight > frame.height - 4) top = y - frame.top - tooltip.offsetHeight - 26;
    tooltip.style.left = left + "px";
    tooltip.style.top = Math.max(4, top) + "px";
  }

  /** A passage into the tooltip as text, each quoted part in a <mark> (never parsed as HTML). */
  function appendPassage(text, marks) {
    var at = 0;
    (marks || []).forEach(function (range) {
      tooltip.appendChild(document.createTextNode(text.slice(at, range[0])));
      var quoted = document.createElement("mark");
      quoted.textContent = text.slice(range[0], range[1]);
      tooltip.appendChild(quoted);
      at = range[1];
    });
    tooltip.appendChild(document.createTextNode(text.slice(at)));
  }

  function hideTip() {
    if (!tooltip.hidden) tooltip.hidden = true;
  }

  // ---- editing ------------------------------------------------------------------------------------

  /** Insert at the caret through the browser's editing command, so that undo (Ctrl+Z) keeps it. */
  function insert(value) {
    if (!document.execCommand("insertText", false, value)) {
      text.setRangeText(value, text.selectionStart, text.selectionEnd, "end");
      text.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  /** Tab indents (two spaces, or every selected line), Shift+Tab takes the indent back. */
  function indent(outdent) {
    var value = text.value;
    var start = text.selectionStart;
    var end = text.selectionEnd;
    if (!outdent && value.slice(start, end).indexOf("\n") < 0) {
      insert("  ");
      return;
    }
    var from = value.lastIndexOf("\n", start - 1) + 1;
    var stop = end > start && value[end - 1] === "\n" ? end - 1 : end;
    var to = value.indexOf("\n", stop);
    if (to < 0) to = value.length;
    var block = value.slice(from, to);
    var changed = block
      .split("\n")
      .map(function (line) {
        if (outdent) return line.replace(/^( {1,2}|\t)/, "");
        return line ? "  " + line : line;
      })
      .join("\n");
    if (changed === block) return;
    text.setSelectionRange(from, to);
    insert(changed);
    text.setSelectionRange(from, from + changed.length);
  }

  /** Enter keeps the indent of the line. */
  function newline() {
    var value = text.value;
    var start = value.lastIndexOf("\n", text.selectionStart - 1) + 1;
    var indentation = /^[ \t]*/.exec(value.slice(start, text.selectionStart))[0];
    insert("\n" + indentation);
  }

  text.addEventListener("keydown", function (event) {
    if (event.isComposing || event.keyCode === 229 || text.readOnly) return;
    var command = event.ctrlKey || event.metaKey;
    if (event.key === "Escape") {
      state.escapeTab = true; // the next Tab leaves the editor instead of indenting
      hideTip();
      return;
    }
    if (event.key === "Tab" && !command && !event.altKey) {
      if (state.escapeTab) {
        state.escapeTab = false;
        return;
      }
      event.preventDefault();
      indent(event.shiftKey);
      return;
    }
    state.escapeTab = false;
    if ((event.key === "Enter" && command) || (event.key.toLowerCase() === "s" && command)) {
      event.preventDefault();
      sendValue();
      return;
    }
    if (event.key === "Enter" && !event.shiftKey && !event.altKey) {
      event.preventDefault();
      newline();
    }
  });

  text.addEventListener("input", function (event) {
    paint();
    onCaret();
    if (event.isComposing || state.composing) return; // mid-composition: nothing is sent
    schedule();
  });
  text.addEventListener("compositionstart", function () {
    state.composing = true;
    clearTimeout(state.timer);
    state.timer = 0;
  });
  text.addEventListener("compositionend", function () {
    state.composing = false;
    var deferred = state.deferred;
    state.deferred = null;
    if (deferred) {
      render(deferred);
    } else {
      paint();
      schedule();
    }
  });
  text.addEventListener("blur", sendValue); // leaving the box: the text goes at once
  window.addEventListener("blur", sendValue);
  text.addEventListener("scroll", syncScroll, { passive: true });
  ["keyup", "click", "focus", "select"].forEach(function (name) {
    text.addEventListener(name, onCaret);
  });
  document.addEventListener("selectionchange", function () {
    if (document.activeElement === text) onCaret();
  });
  text.addEventListener("mousemove", function (event) {
    state.hoverEvent = event;
    if (!state.hoverFrame) state.hoverFrame = requestAnimationFrame(hover);
  });
  text.addEventListener("mouseleave", function () {
    state.hoverEvent = null;
    hideTip();
  });
  text.addEventListener("wheel", hideTip, { passive: true });
  numbers.addEventListener("click", function (event) {
    var row = event.target.closest(".g.error, .g.warning");
    if (!row) return;
    var line = Number(row.dataset.line);
    var mark = state.marks.find(function (m) {
      return clamp(m.line || 1, 1, Infinity) === line;
    });
    if (mark) jumpTo(mark);
  });

  if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(document.body);
  post("streamlit:componentReady", { apiVersion: 1 });
  reportHeight();
})();
