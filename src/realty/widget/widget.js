// The realty chat widget: one conversation over the API of the page's own origin.
//
// Opening: a conversation kept in localStorage is resumed (its history read over HTTP), else
// a new one is opened. Live traffic goes over the conversation's WebSocket. Every entry has a
// `seq`; the widget renders each seq once, so replays after a reconnect (`?after=<last seq>`)
// and events from other tabs never duplicate anything. A message is sent with a
// `client_message_id` and stays pending until its reply arrives; after a reconnect every
// pending message is sent again with the same id, which the server de-duplicates, so nothing
// is lost either. All text enters the page through textContent: nothing a prospect or the
// assistant writes is ever parsed as markup.
(function () {
  "use strict";

  const STORE_KEY = "realty.widget.v1";
  const MAX_BACKOFF_MS = 10000;
  const PING_MS = 25000;
  const CLOSE_NOT_FOUND = 4404;
  const CLOSE_ERASED = 4410;

  const LABELS = {
    en: {
      title: "Find your commercial property",
      brief: "Your brief",
      placeholder: "Type your message…",
      input: "Message",
      send: "Send",
      restart: "New conversation",
      switchTo: "Español",
      switchTitle: "Continuar en español",
      connecting: "connecting…",
      reconnecting: "reconnecting…",
      online: "online",
      edited: "You edited your brief.",
      confirmed: "You confirmed your brief.",
      gone: "That conversation has ended; here is a new one.",
      down: "The service is not answering right now. Your message was not sent; please try again in a moment.",
      tooLong: (limit) => `Your message is too long (the limit is ${limit} characters). Please shorten it.`,
      rateLimited: (seconds) => `You are sending messages too fast. Please wait ${seconds} seconds and try again.`,
      busy: "We could not process that message just now. Please try again in a moment.",
      invalid: "That message could not be sent.",
    },
    es: {
      title: "Encuentra tu inmueble comercial",
      brief: "Tu búsqueda",
      placeholder: "Escribe tu mensaje…",
      input: "Mensaje",
      send: "Enviar",
      restart: "Nueva conversación",
      switchTo: "English",
      switchTitle: "Continue in English",
      connecting: "conectando…",
      reconnecting: "reconectando…",
      online: "en línea",
      edited: "Editaste tu búsqueda.",
      confirmed: "Confirmaste tu búsqueda.",
      gone: "Esa conversación terminó; empezamos una nueva.",
      down: "El servicio no responde en este momento. Tu mensaje no se envió; inténtalo de nuevo en un momento.",
      tooLong: (limit) => `Tu mensaje es demasiado largo (el límite es de ${limit} caracteres). Por favor acórtalo.`,
      rateLimited: (seconds) => `Estás enviando mensajes muy rápido. Espera ${seconds} segundos e inténtalo de nuevo.`,
      busy: "No pudimos procesar ese mensaje ahora. Inténtalo de nuevo en un momento.",
      invalid: "No se pudo enviar ese mensaje.",
    },
  };

  const $ = (id) => document.getElementById(id);
  const view = {
    title: $("title"),
    status: $("status"),
    language: $("language"),
    restart: $("restart"),
    briefTitle: $("brief-title"),
    progress: $("progress"),
    progressText: $("progress-text"),
    chips: $("chips"),
    log: $("log"),
    typing: $("typing"),
    form: $("composer"),
    input: $("input"),
    inputLabel: $("input-label"),
    send: $("send"),
  };

  const state = {
    id: null,
    token: null,
    language: initialLanguage(),
    lastSeq: 0,
    socket: null,
    backoff: 500,
    reconnectTimer: null,
    pingTimer: null,
    // client_message_id -> {text, element}: sent (or queued) and not yet answered.
    pending: new Map(),
    // client_message_ids sent on the current socket, oldest first: an `error` event answers
    // the oldest one (the server handles one socket's messages in order).
    inFlight: [],
    // Bumped on every new conversation, so a stale socket's events are ignored.
    generation: 0,
  };

  // ---- language ----

  function initialLanguage() {
    const asked = new URLSearchParams(window.location.search).get("lang");
    if (asked === "es" || asked === "en") return asked;
    return (navigator.language || "en").toLowerCase().startsWith("es") ? "es" : "en";
  }

  function labels() {
    return LABELS[state.language];
  }

  function applyLabels() {
    const text = labels();
    document.documentElement.lang = state.language;
    view.title.textContent = text.title;
    view.briefTitle.textContent = text.brief;
    view.input.placeholder = text.placeholder;
    view.inputLabel.textContent = text.input;
    view.send.textContent = text.send;
    view.restart.textContent = text.restart;
    view.language.textContent = text.switchTo;
    view.language.title = text.switchTitle;
  }

  function setLanguage(language) {
    if (language !== "es" && language !== "en") return;
    state.language = language;
    applyLabels();
  }

  // ---- rendering (text only) ----

  function append(element) {
    view.log.appendChild(element);
    view.log.scrollTop = view.log.scrollHeight;
    return element;
  }

  function item(className, text) {
    const element = document.createElement("li");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function userBubble(text) {
    return append(item("message user", text));
  }

  function botBubble(text) {
    return append(item("message bot", text));
  }

  function note(text) {
    return append(item("note", text));
  }

  function notice(text) {
    return append(item("notice", text));
  }

  function setStatus(text) {
    view.status.textContent = text;
  }

  function showTyping(on) {
    view.typing.hidden = !on;
  }

  function chip(text, kind) {
    const element = document.createElement("li");
    element.className = kind ? `chip ${kind}` : "chip";
    element.textContent = text;
    return element;
  }

  function renderBrief(display) {
    const chips = [];
    for (const value of display.fields) {
      chips.push(chip(`${value.label}: ${value.text}`, value.status === "unconfirmed" ? "unconfirmed" : ""));
    }
    for (const value of display.extras) {
      chips.push(chip(`${value.label}: ${value.text}`, "extra"));
    }
    for (const missing of display.missing) {
      chips.push(chip(missing.label, "missing"));
    }
    view.chips.replaceChildren(...chips);
    view.progress.max = display.required;
    view.progress.value = display.filled;
    view.progressText.textContent = `${display.filled}/${display.required}`;
    setLanguage(display.language);
  }

  // One log entry (a history entry or a `reply` event), rendered at most once.
  function renderEntry(entry) {
    if (entry.seq <= state.lastSeq) return;
    state.lastSeq = entry.seq;
    if (entry.kind === "message") {
      const mine = entry.client_message_id && state.pending.get(entry.client_message_id);
      if (mine) {
        mine.element.classList.remove("pending");
        state.pending.delete(entry.client_message_id);
      } else {
        userBubble(entry.text);
      }
    } else if (entry.kind === "edit") {
      note(labels().edited);
    } else if (entry.kind === "confirm") {
      note(labels().confirmed);
    }
    botBubble(entry.reply);
  }

  // ---- HTTP ----

  async function request(method, path, body) {
    const headers = { "content-type": "application/json" };
    if (state.token) headers.authorization = `Bearer ${state.token}`;
    const response = await fetch(new URL(path, window.location.href), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    return { status: response.status, data, retryAfter: response.headers.get("retry-after") };
  }

  function remember() {
    window.localStorage.setItem(STORE_KEY, JSON.stringify({ id: state.id, token: state.token }));
  }

  function remembered() {
    try {
      const stored = JSON.parse(window.localStorage.getItem(STORE_KEY) || "null");
      return stored && typeof stored.id === "string" && typeof stored.token === "string" ? stored : null;
    } catch (error) {
      return null;
    }
  }

  function reset() {
    state.generation += 1;
    closeSocket();
    state.id = null;
    state.token = null;
    state.lastSeq = 0;
    state.pending.clear();
    state.inFlight = [];
    view.log.replaceChildren();
    view.chips.replaceChildren();
    showTyping(false);
  }

  async function open() {
    const stored = remembered();
    if (stored && (await resume(stored))) return;
    if (stored) {
      window.localStorage.removeItem(STORE_KEY);
      notice(labels().gone);
    }
    await start();
  }

  async function start() {
    state.token = null;
    const answer = await request("POST", "v1/conversations", { language: state.language });
    if (answer.status !== 201) throw new Error(`open: ${answer.status}`);
    state.id = answer.data.id;
    state.token = answer.data.token;
    remember();
    renderEntry({ seq: answer.data.seq, kind: "start", text: "", reply: answer.data.reply });
    renderBrief(answer.data.display);
    connect();
  }

  // Reads the stored conversation's history page by page; false when it is gone.
  async function resume(stored) {
    state.id = stored.id;
    state.token = stored.token;
    for (;;) {
      const answer = await request("GET", `v1/conversations/${encodeURIComponent(state.id)}?after=${state.lastSeq}&limit=1000`);
      if (answer.status === 404 || answer.status === 401) {
        state.id = null;
        state.token = null;
        return false;
      }
      if (answer.status !== 200) throw new Error(`resume: ${answer.status}`);
      setLanguage(answer.data.language);
      answer.data.history.forEach(renderEntry);
      renderBrief(answer.data.display);
      if (answer.data.history.length < 1000) break;
    }
    connect();
    return true;
  }

  // ---- WebSocket ----

  function socketUrl() {
    const url = new URL(`v1/conversations/${encodeURIComponent(state.id)}/ws`, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", state.token);
    url.searchParams.set("after", String(state.lastSeq));
    return url.toString();
  }

  function connect() {
    const generation = state.generation;
    setStatus(labels().connecting);
    const socket = new WebSocket(socketUrl());
    state.socket = socket;
    state.inFlight = [];
    socket.addEventListener("message", (event) => {
      if (generation === state.generation) onEvent(JSON.parse(event.data));
    });
    socket.addEventListener("close", (event) => {
      if (generation === state.generation && state.socket === socket) onClose(event.code);
    });
  }

  function closeSocket() {
    window.clearTimeout(state.reconnectTimer);
    window.clearInterval(state.pingTimer);
    const socket = state.socket;
    state.socket = null;
    if (socket) socket.close(1000);
  }

  function onClose(code) {
    window.clearInterval(state.pingTimer);
    state.socket = null;
    showTyping(false);
    if (code === CLOSE_NOT_FOUND || code === CLOSE_ERASED) {
      window.localStorage.removeItem(STORE_KEY);
      reset();
      notice(labels().gone);
      start().catch(serviceDown);
      return;
    }
    setStatus(labels().reconnecting);
    state.reconnectTimer = window.setTimeout(connect, state.backoff);
    state.backoff = Math.min(state.backoff * 2, MAX_BACKOFF_MS);
  }

  function onEvent(event) {
    switch (event.type) {
      case "ready":
        state.backoff = 500;
        setStatus(labels().online);
        state.pingTimer = window.setInterval(() => transmit({ type: "ping" }), PING_MS);
        // Whatever is still pending never got its reply: send it again (same id).
        for (const [id, message] of state.pending) sendFrame(id, message.text);
        break;
      case "typing":
        showTyping(true);
        break;
      case "reply":
        showTyping(false);
        state.inFlight = state.inFlight.filter((id) => id !== event.client_message_id);
        renderEntry(event);
        break;
      case "brief":
        if (event.display) renderBrief(event.display);
        break;
      case "error":
        showTyping(false);
        onError(event);
        break;
      default:
        break; // pong, erased (the close code says it), future events
    }
  }

  // An error answers the oldest message sent on this socket (or is about the socket itself).
  function onError(problem) {
    const text = labels();
    const id = state.inFlight.shift();
    const message = id ? state.pending.get(id) : null;
    if (message) {
      state.pending.delete(id);
      message.element.remove();
      if (!view.input.value) view.input.value = message.text; // let them fix and resend it
    }
    if (problem.status === 413) {
      notice(problem.limit ? text.tooLong(problem.limit) : text.invalid);
    } else if (problem.status === 429) {
      notice(text.rateLimited(problem.retry_after || 60));
    } else if (problem.status === 503) {
      notice(text.busy);
    } else {
      notice(problem.title ? `${text.invalid} (${problem.title})` : text.invalid);
    }
  }

  function transmit(frame) {
    const socket = state.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function sendFrame(id, text) {
    if (transmit({ type: "message", text, client_message_id: id })) state.inFlight.push(id);
  }

  function messageId() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function send(text) {
    const id = messageId();
    const element = userBubble(text);
    element.classList.add("pending");
    state.pending.set(id, { text, element });
    sendFrame(id, text); // when the socket is down it goes out on the next `ready`
  }

  // ---- controls ----

  function serviceDown() {
    notice(labels().down);
    setStatus("");
  }

  view.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = view.input.value;
    if (!text.trim()) return;
    if (!state.id) {
      notice(labels().down);
      return;
    }
    view.input.value = "";
    send(text);
    view.input.focus();
  });

  view.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      view.form.requestSubmit();
    }
  });

  view.restart.addEventListener("click", () => {
    window.localStorage.removeItem(STORE_KEY);
    reset();
    start().catch(serviceDown);
  });

  view.language.addEventListener("click", async () => {
    const next = state.language === "es" ? "en" : "es";
    setLanguage(next);
    if (!state.id) return;
    try {
      const answer = await request("PATCH", `v1/conversations/${encodeURIComponent(state.id)}/brief`, { language: next });
      if (answer.status === 200) {
        // The socket brings the same entry too; renderEntry keeps only one.
        renderEntry({ ...answer.data, kind: "edit", text: "" });
        renderBrief(answer.data.display);
      } else if (answer.status === 429) {
        notice(labels().rateLimited(answer.retryAfter || 60));
      }
    } catch (error) {
      serviceDown();
    }
  });

  // Opens (or resumes) the conversation; while the service is down, tries again every 5 s.
  function boot() {
    open().catch(() => {
      reset();
      serviceDown();
      window.setTimeout(boot, 5000);
    });
  }

  applyLabels();
  boot();
})();
