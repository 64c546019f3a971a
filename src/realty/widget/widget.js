// The realty chat widget: one conversation over the API of the page's own origin.
//
// Opening: a conversation kept in localStorage is resumed (its history read over HTTP), else a
// new one is opened. Live traffic goes over the conversation's WebSocket, whose first frame
// carries the token (a browser cannot set headers on it, and a URL ends up in logs). Every
// entry has a `seq` (1, 2, 3… per conversation) and the socket delivers them in order, so the
// widget renders each seq once: replays after a reconnect (`?after=<last seq>`) and events
// from other tabs never duplicate anything. A message is sent with a `client_message_id` and stays pending
// until its reply arrives; after a reconnect (or a refusal for being too fast) every pending
// message is sent again with the same id, which the server de-duplicates, so nothing is lost
// either. Pending bubbles stay at the bottom of the log, so the log always reads in seq order.
// All text enters the page through textContent: nothing a prospect or the assistant writes is
// ever parsed as markup.
(function () {
  "use strict";

  const STORE_KEY = "realty.widget.v1";
  const HISTORY_PAGE = 1000; // the API's largest history page
  const MAX_FRAME_CHARS = 65536; // the server refuses larger WebSocket frames
  const FIRST_BACKOFF_MS = 500;
  const MAX_BACKOFF_MS = 10000;
  const PING_MS = 25000; // keeps idle proxies from closing the socket
  const PONG_TIMEOUT_MS = 10000; // a socket that does not answer a ping is dead
  const TYPING_TIMEOUT_MS = 45000; // a turn whose reply never comes (handled elsewhere, failed)
  // A reply sent before the model finished reading: its refinement may add to the brief later.
  const READING_TIMEOUT_MS = 30000;
  const BOOT_RETRY_MS = 5000;
  const CLOSE_NOT_FOUND = 4404;
  const CLOSE_ERASED = 4410;
  const LISTINGS_LIMIT = 5; // cards under the chat: the API's best first
  const LISTINGS_PEEK_PX = 96; // how much of newly arrived cards is scrolled into view
  const SVG_NS = "http://www.w3.org/2000/svg";
  const MAP_WIDTH = 320; // the map's own units (it scales to the widget's width)
  const MAP_HEIGHT = 180;
  const MAP_MARGIN = 28; // room for a pin (26 px tall) at the edge of the bounding box
  const KM_PER_DEGREE = 111.32;
  const OSM_ZOOM = 16;

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
      you: "You: ",
      assistant: "Assistant: ",
      typing: "Typing…",
      reading: "Still reading the rest of your message…",
      connecting: "connecting…",
      reconnecting: "reconnecting…",
      online: "online",
      missing: "still needed",
      unconfirmed: "to be confirmed",
      notSent: "Not sent",
      edited: "You edited your brief.",
      confirmed: "You confirmed your brief.",
      gone: "That conversation has ended; here is a new one.",
      down: "The service is not answering right now. We will keep trying.",
      wait: "One moment: connecting…",
      tooLong: (limit) => `Your message is too long (the limit is ${limit} characters). Please shorten it.`,
      tooLongPlain: "Your message is too long. Please shorten it.",
      rateLimited: (seconds) => `You are sending messages too fast. We will send yours in ${seconds} s.`,
      slowDown: (seconds) => `Too many requests. Please try again in ${seconds} s.`,
      busy: (seconds) => `We could not process your message just now. We will try again in ${seconds} s.`,
      invalid: "That message could not be sent. Please try again.",
      listings: "Listings that fit",
      preview: "Preview",
      previewNote: "A first look from the property type and city; it gets sharper as your brief fills in.",
      noListings: "No listing fits your brief exactly yet.",
      count: (shown, total) => `${shown} of ${total} listings that fit`,
      market: "Market check: ",
      mapOf: (places) => `Map of the listings in ${places}`,
      mapCaption: "Pins are numbered as the cards.",
      onMap: "Map",
      onMapOf: (title) => `${title} on OpenStreetMap (opens a new tab)`,
      priceRent: (price, currency) => `${price} ${currency} a month`,
      priceSale: (price, currency) => `${price} ${currency} for sale`,
      perM2Rent: (price, currency) => `${price} ${currency}/m² a month`,
      perM2Sale: (price, currency) => `${price} ${currency}/m²`,
      availableNow: "Available now",
      availableFrom: (date) => `Available from ${date}`,
      availableUnknown: "Availability not stated",
      locale: "en-US",
      kinds: {
        office: "office", warehouse: "warehouse", industrial: "industrial building",
        retail: "retail space", land: "land", coworking: "coworking space",
        medical: "medical office", hotel: "hotel", mixed_use: "mixed-use property",
        apartment: "apartment", house: "house",
      },
      amenities: {
        parking_spaces: (n) => (n === "1" ? "1 parking space" : `${n} parking spaces`),
        loading_docks: (n) => (n === "1" ? "1 loading dock" : `${n} loading docks`),
        ceiling_height: (n) => `${n} m clear height`,
        power_kva: (n) => `${n} kVA of power`,
        three_phase_power: () => "three-phase power",
        furnished: () => "furnished",
        security_24h: () => "24/7 security",
        elevator: () => "elevator",
        air_conditioning: () => "air conditioning",
        pets_allowed: () => "pet friendly",
        bedrooms: (n) => (n === "1" ? "1 bedroom" : `${n} bedrooms`),
        bathrooms: (n) => (n === "1" ? "1 bathroom" : `${n} bathrooms`),
      },
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
      you: "Tú: ",
      assistant: "Asistente: ",
      typing: "Escribiendo…",
      reading: "Sigo leyendo el resto de tu mensaje…",
      connecting: "conectando…",
      reconnecting: "reconectando…",
      online: "en línea",
      missing: "falta",
      unconfirmed: "por confirmar",
      notSent: "No enviado",
      edited: "Editaste tu búsqueda.",
      confirmed: "Confirmaste tu búsqueda.",
      gone: "Esa conversación terminó; empezamos una nueva.",
      down: "El servicio no responde en este momento. Seguiremos intentando.",
      wait: "Un momento: conectando…",
      tooLong: (limit) => `Tu mensaje es demasiado largo (el límite es de ${limit} caracteres). Por favor acórtalo.`,
      tooLongPlain: "Tu mensaje es demasiado largo. Por favor acórtalo.",
      rateLimited: (seconds) => `Estás enviando mensajes muy rápido. Enviaremos el tuyo en ${seconds} s.`,
      slowDown: (seconds) => `Demasiadas solicitudes. Inténtalo de nuevo en ${seconds} s.`,
      busy: (seconds) => `No pudimos procesar tu mensaje ahora. Lo intentaremos de nuevo en ${seconds} s.`,
      invalid: "No se pudo enviar ese mensaje. Inténtalo de nuevo.",
      listings: "Inmuebles que coinciden",
      preview: "Vista previa",
      previewNote: "Un primer vistazo según el tipo de inmueble y la ciudad; se afina conforme completas tu búsqueda.",
      noListings: "Todavía ningún inmueble coincide exactamente con tu búsqueda.",
      count: (shown, total) => `${shown} de ${total} inmuebles que coinciden`,
      market: "Comparación con el mercado: ",
      mapOf: (places) => `Mapa de los inmuebles en ${places}`,
      mapCaption: "Los marcadores llevan el número de cada tarjeta.",
      onMap: "Mapa",
      onMapOf: (title) => `${title} en OpenStreetMap (se abre en otra pestaña)`,
      priceRent: (price, currency) => `${price} ${currency} al mes`,
      priceSale: (price, currency) => `${price} ${currency} en venta`,
      perM2Rent: (price, currency) => `${price} ${currency}/m² al mes`,
      perM2Sale: (price, currency) => `${price} ${currency}/m²`,
      availableNow: "Disponible ya",
      availableFrom: (date) => `Disponible desde el ${date}`,
      availableUnknown: "Disponibilidad sin dato",
      locale: "es-MX",
      kinds: {
        office: "oficina", warehouse: "bodega", industrial: "nave industrial",
        retail: "local comercial", land: "terreno", coworking: "coworking",
        medical: "consultorio", hotel: "hotel", mixed_use: "uso mixto",
        apartment: "departamento", house: "casa",
      },
      amenities: {
        parking_spaces: (n) => (n === "1" ? "1 cajón de estacionamiento" : `${n} cajones de estacionamiento`),
        loading_docks: (n) => (n === "1" ? "1 andén de carga" : `${n} andenes de carga`),
        ceiling_height: (n) => `altura libre de ${n} m`,
        power_kva: (n) => `${n} kVA de potencia`,
        three_phase_power: () => "energía trifásica",
        furnished: () => "amueblado",
        security_24h: () => "seguridad 24/7",
        elevator: () => "elevador",
        air_conditioning: () => "aire acondicionado",
        pets_allowed: () => "acepta mascotas",
        bedrooms: (n) => (n === "1" ? "1 recámara" : `${n} recámaras`),
        bathrooms: (n) => (n === "1" ? "1 baño" : `${n} baños`),
      },
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
    feed: $("feed"),
    log: $("log"),
    listings: $("listings"),
    listingsTitle: $("listings-title"),
    listingsCount: $("listings-count"),
    listingsNote: $("listings-note"),
    relaxation: $("relaxation"),
    market: $("market"),
    map: $("map"),
    mapCaption: $("map-caption"),
    cards: $("cards"),
    typing: $("typing"),
    typingText: $("typing-text"),
    form: $("composer"),
    input: $("input"),
    inputLabel: $("input-label"),
    send: $("send"),
  };

  const state = {
    id: null,
    token: null,
    language: initialLanguage(),
    status: "", // a key of LABELS, so a language switch re-words it
    lastSeq: 0, // the highest entry rendered (entries arrive in seq order)
    briefSeq: 0, // the entry whose brief the chips show
    socket: null,
    ready: false, // the socket has replayed what we missed and accepts messages
    backoff: FIRST_BACKOFF_MS,
    timers: { reconnect: 0, ping: 0, pong: 0, typing: 0, resend: 0, boot: 0 },
    // client_message_id -> {text, element, failed}: sent (or queued) and not yet answered.
    // A failed one (refused, given back for editing) is kept so a late reply still finds it.
    pending: new Map(),
    // ids sent on the current socket and not yet answered, oldest first: the server handles a
    // socket's messages in order, so an unattributed `error` answers the oldest one.
    inFlight: [],
    switching: false, // a language switch is on its way
    reading: false, // the hint says the model is still reading the last message
    // Bumped whenever the conversation is dropped, so late answers for the old one are ignored.
    generation: 0,
    listingsFor: "", // the brief (in words, with its language) the cards were asked for
    listingsAsked: 0, // bumped per request, so only the answer to the latest one is shown
  };

  // ---- language ----

  function initialLanguage() {
    const asked = new URLSearchParams(window.location.search).get("lang");
    if (asked === "es" || asked === "en") return asked;
    const preferred = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
    return preferred.toLowerCase().startsWith("es") ? "es" : "en";
  }

  function labels() {
    return LABELS[state.language];
  }

  function applyLabels() {
    const text = labels();
    document.documentElement.lang = state.language;
    document.title = text.title;
    view.title.textContent = text.title;
    view.briefTitle.textContent = text.brief;
    view.input.placeholder = text.placeholder;
    view.inputLabel.textContent = text.input;
    view.send.textContent = text.send;
    view.restart.textContent = text.restart;
    view.language.textContent = text.switchTo;
    view.language.title = text.switchTitle;
    // The button names the other language in that language: let screen readers say it so.
    view.language.lang = state.language === "es" ? "en" : "es";
    view.typingText.textContent = state.reading ? text.reading : text.typing;
    view.status.textContent = state.status ? text[state.status] : "";
  }

  function setLanguage(language) {
    if ((language !== "es" && language !== "en") || language === state.language) return;
    state.language = language;
    applyLabels();
  }

  function setStatus(key) {
    state.status = key;
    view.status.textContent = key ? labels()[key] : "";
  }

  // ---- the log (text only) ----

  // Brings the newest entry into view (the cards, when there are any, stay below it).
  function scrollDown() {
    const end = view.log.offsetTop + view.log.offsetHeight - view.feed.clientHeight;
    view.feed.scrollTop = Math.max(0, end);
  }

  // Inserts a delivered element before the pending bubbles, which always stay last.
  function place(element) {
    view.log.insertBefore(element, view.log.querySelector(":scope > .pending"));
    scrollDown();
    return element;
  }

  function bubble(who, text) {
    const element = document.createElement("div");
    element.className = `message ${who}`;
    const speaker = document.createElement("span");
    speaker.className = "visually-hidden";
    speaker.textContent = who === "user" ? labels().you : labels().assistant;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    element.append(speaker, body);
    return element;
  }

  function line(className, text) {
    const element = document.createElement("p");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function note(text) {
    return place(line("note", text));
  }

  // A notice about the service; the same notice twice in a row is shown once.
  function notice(text) {
    const delivered = view.log.querySelectorAll(":scope > :not(.pending)");
    const previous = delivered[delivered.length - 1];
    if (previous && previous.classList.contains("notice") && previous.textContent === text) {
      return previous;
    }
    return place(line("notice", text));
  }

  function showTyping(on, reading = false) {
    state.reading = on && reading;
    view.typingText.textContent = state.reading ? labels().reading : labels().typing;
    view.typing.hidden = !on;
    window.clearTimeout(state.timers.typing);
    if (on) {
      const timeout = reading ? READING_TIMEOUT_MS : TYPING_TIMEOUT_MS;
      state.timers.typing = window.setTimeout(() => showTyping(false), timeout);
    }
  }

  // ---- the brief ----

  function chip(text, kind, hint) {
    const element = document.createElement("li");
    element.className = kind ? `chip ${kind}` : "chip";
    element.textContent = text;
    if (hint) element.title = hint;
    return element;
  }

  // Shows `display` (the brief in words) unless a later brief is already shown.
  function renderBrief(display, seq) {
    if (!display || seq < state.briefSeq) return;
    state.briefSeq = seq;
    setLanguage(display.language);
    const text = labels();
    const chips = [];
    for (const value of display.fields) {
      const unconfirmed = value.status === "unconfirmed";
      chips.push(chip(`${value.label}: ${value.text}`, unconfirmed ? "unconfirmed" : "", unconfirmed ? text.unconfirmed : ""));
    }
    for (const value of display.extras) {
      chips.push(chip(`${value.label}: ${value.text}`, "extra", ""));
    }
    for (const missing of display.missing) {
      chips.push(chip(missing.label, "missing", text.missing));
    }
    view.chips.replaceChildren(...chips);
    view.progress.max = display.required;
    view.progress.value = display.filled;
    view.progressText.textContent = `${display.filled}/${display.required}`;
    refreshListings(display);
  }

  // ---- listings that fit (below the messages) ----
  //
  // Asked for whenever the brief in words changes (or its language), once the property type
  // and city are known: the API answers 409 until it can search (no cards, nothing to say), a
  // preview (`complete: false`) once it can, and the full answer for a complete brief.

  function listingsKey(display) {
    const words = (values) => values.map((value) => [value.key, value.text, value.status]);
    return JSON.stringify([display.language, display.complete, words(display.fields), words(display.extras)]);
  }

  function searchable(display) {
    const known = new Set(display.fields.map((value) => value.key));
    return display.complete || (known.has("property_type") && known.has("city"));
  }

  function refreshListings(display) {
    const key = listingsKey(display);
    if (key === state.listingsFor) return;
    state.listingsFor = key;
    state.listingsAsked += 1;
    if (!state.id || !searchable(display)) {
      clearListings();
      return;
    }
    fetchListings(state.listingsAsked, state.generation);
  }

  async function fetchListings(asked, generation) {
    const query = `limit=${LISTINGS_LIMIT}&language=${encodeURIComponent(state.language)}`;
    let answer = null;
    try {
      answer = await request("GET", `${conversationPath()}/matches?${query}`);
    } catch (error) {
      answer = null; // offline: asked again with the next change of the brief
    }
    if (generation !== state.generation || asked !== state.listingsAsked) return; // stale
    if (answer && answer.status === 200 && answer.data && Array.isArray(answer.data.listings)) {
      renderListings(answer.data);
      return;
    }
    clearListings();
    // 409: nothing to search on yet. Anything else failed: the next brief asks again.
    if (!answer || answer.status !== 409) state.listingsFor = "";
  }

  function clearListings() {
    view.listings.hidden = true;
    view.cards.replaceChildren();
    clearListingsMap();
  }

  function setText(element, text) {
    element.textContent = text || "";
    element.hidden = !text;
  }

  function renderListings(data) {
    const text = labels();
    const listings = data.listings;
    const preview = data.complete === false; // absent: a complete brief's answer
    const wasHidden = view.listings.hidden;
    view.listingsTitle.textContent = preview ? `${text.listings} · ${text.preview}` : text.listings;
    // None fit exactly (total 0): the listings, if any, are the relaxation's, said below.
    setText(view.listingsCount, data.total && listings.length ? text.count(listings.length, data.total) : "");
    setText(view.listingsNote, preview ? text.previewNote : "");
    const relaxation = data.relaxation && data.relaxation.text;
    setText(view.relaxation, relaxation || (listings.length ? "" : text.noListings));
    const check = data.market_check && data.market_check.text;
    setText(view.market, check ? `${text.market}${check}` : "");
    view.cards.replaceChildren(...listings.map((match, index) => card(match, index + 1)));
    drawMap(listings);
    view.listings.hidden = false;
    if (wasHidden) peekAtListings();
  }

  // Newly shown cards: scroll just enough to show their start below the last message.
  function peekAtListings() {
    const peek = view.listings.offsetTop + LISTINGS_PEEK_PX - view.feed.clientHeight;
    view.feed.scrollTop = Math.max(view.feed.scrollTop, peek);
  }

  function amount(value) {
    return Number(value).toLocaleString("en-US", { maximumFractionDigits: 1 });
  }

  function kindName(kind) {
    const name = labels().kinds[kind] || String(kind).replace(/_/g, " ");
    return name.charAt(0).toUpperCase() + name.slice(1);
  }

  function listingTitle(listing) {
    const place = listing.zone ? `${listing.zone}, ${listing.city}` : listing.city;
    return `${kindName(listing.property_type)} · ${place}`;
  }

  function amenityWords(amenities) {
    const words = labels().amenities;
    const found = [];
    for (const [key, value] of Object.entries(amenities || {})) {
      if (value === false || value === 0 || value === null) continue;
      const n = typeof value === "number" ? amount(value) : "";
      const say = words[key];
      found.push(say ? say(n) : `${key.replace(/_/g, " ")}${n ? `: ${n}` : ""}`);
    }
    return found;
  }

  function availability(from) {
    const text = labels();
    if (!from) return text.availableUnknown;
    const today = new Date();
    const local = [today.getFullYear(), today.getMonth() + 1, today.getDate()]
      .map((part) => String(part).padStart(2, "0"))
      .join("-");
    if (from <= local) return text.availableNow;
    const date = new Date(`${from}T00:00:00Z`);
    const words = date.toLocaleDateString(text.locale, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
    return text.availableFrom(words);
  }

  function osmUrl(lat, lon) {
    const la = Number(lat).toFixed(5);
    const lo = Number(lon).toFixed(5);
    return `https://www.openstreetmap.org/?mlat=${la}&mlon=${lo}#map=${OSM_ZOOM}/${la}/${lo}`;
  }

  function element(tag, className, text) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  }

  function card(match, number) {
    const text = labels();
    const listing = match.listing;
    const title = listingTitle(listing);
    const item = element("li", "card");
    item.id = `listing-${number}`;
    item.tabIndex = -1; // a pin's link moves the focus here
    const heading = element("h3", "card-title");
    heading.append(element("span", "card-number", String(number)), document.createTextNode(title));
    const rent = listing.offer === "rent";
    const price = element("p", "card-price", (rent ? text.priceRent : text.priceSale)(amount(listing.price), listing.currency));
    const perM2 = (rent ? text.perM2Rent : text.perM2Sale)(amount(listing.price_per_m2), listing.currency);
    const size = element("p", "card-size", `${amount(listing.size_m2)} m² · ${perM2}`);
    const reasons = element("ul", "card-reasons");
    reasons.append(...(match.reasons || []).map((reason) => element("li", "", reason)));
    item.append(heading, price, size, reasons);
    const amenities = amenityWords(listing.amenities);
    if (amenities.length) item.append(element("p", "card-amenities", amenities.join(" · ")));
    const footer = element("p", "card-footer");
    const link = element("a", "card-map", text.onMap);
    link.href = osmUrl(listing.lat, listing.lon);
    link.target = "_blank";
    link.rel = "noopener";
    link.setAttribute("aria-label", text.onMapOf(title));
    footer.append(element("span", "card-availability", availability(listing.available_from)), link);
    item.append(footer);
    return item;
  }

  // ---- the map: an inline SVG (no tiles: the policy allows no other origin) ----

  function svg(tag, attributes, text) {
    const made = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) made.setAttribute(name, String(value));
    if (text !== undefined) made.textContent = text;
    return made;
  }

  // Places every listing within the listings' bounding box: kilometres east and north of its
  // centre (equirectangular, fine at a city's scale), scaled to fit, north up.
  function project(listings) {
    const lats = listings.map((match) => match.listing.lat);
    const lons = listings.map((match) => match.listing.lon);
    const lat0 = (Math.min(...lats) + Math.max(...lats)) / 2;
    const lon0 = (Math.min(...lons) + Math.max(...lons)) / 2;
    const east = (lon) => (lon - lon0) * KM_PER_DEGREE * Math.cos((lat0 * Math.PI) / 180);
    const north = (lat) => (lat - lat0) * KM_PER_DEGREE;
    const width = Math.max(...lons.map(east)) - Math.min(...lons.map(east));
    const height = Math.max(...lats.map(north)) - Math.min(...lats.map(north));
    const room = [MAP_WIDTH - 2 * MAP_MARGIN, MAP_HEIGHT - 2 * MAP_MARGIN];
    const fits = [width ? room[0] / width : Infinity, height ? room[1] / height : Infinity];
    const pxPerKm = Math.min(...fits, 100); // one place alone: ~100 px per km around it
    return {
      pxPerKm,
      at: (lat, lon) => [MAP_WIDTH / 2 + east(lon) * pxPerKm, MAP_HEIGHT / 2 - north(lat) * pxPerKm],
    };
  }

  // A bar of a round length (0.1, 0.2, 0.5, 1, 2, 5… km) about a fifth of the map's width.
  function scaleBar(pxPerKm) {
    const wanted = MAP_WIDTH / 5 / pxPerKm;
    const power = 10 ** Math.floor(Math.log10(wanted));
    const km = [1, 2, 5, 10].map((step) => step * power).filter((length) => length <= wanted).pop() || power;
    const length = km * pxPerKm;
    const x = MAP_WIDTH - 10 - length;
    const y = MAP_HEIGHT - 10;
    const group = svg("g", { class: "map-scale", "aria-hidden": "true" });
    group.append(
      svg("path", { d: `M${x} ${y - 4}V${y}H${x + length}V${y - 4}` }),
      svg("text", { x: x + length / 2, y: y - 6, "text-anchor": "middle" }, km >= 1 ? `${amount(km)} km` : `${Math.round(km * 1000)} m`),
    );
    return group;
  }

  function drawMap(listings) {
    if (!listings.length) {
      clearListingsMap();
      return;
    }
    const text = labels();
    const places = [...new Set(listings.map((match) => match.listing.city))].join(" · ");
    const { at, pxPerKm } = project(listings);
    const map = svg("svg", {
      class: "map-svg",
      viewBox: `0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`,
      role: "group",
      "aria-label": text.mapOf(places),
    });
    map.append(svg("rect", { class: "map-ground", x: 0, y: 0, width: MAP_WIDTH, height: MAP_HEIGHT, rx: 8 }));
    for (let x = 40; x < MAP_WIDTH; x += 40) map.append(svg("path", { class: "map-grid", d: `M${x} 0V${MAP_HEIGHT}` }));
    for (let y = 40; y < MAP_HEIGHT; y += 40) map.append(svg("path", { class: "map-grid", d: `M0 ${y}H${MAP_WIDTH}` }));
    map.append(svg("text", { class: "map-city", x: 10, y: 18 }, places), scaleBar(pxPerKm));
    // The best fit is drawn last, so it stays on top where pins overlap.
    listings
      .map((match, index) => ({ match, number: index + 1 }))
      .reverse()
      .forEach(({ match, number }) => map.append(pin(match.listing, number, at(match.listing.lat, match.listing.lon))));
    view.map.replaceChildren(map, view.mapCaption);
    view.mapCaption.textContent = text.mapCaption;
    view.map.hidden = false;
  }

  function clearListingsMap() {
    view.map.replaceChildren(view.mapCaption);
    view.map.hidden = true;
  }

  // A numbered pin (its tip at the listing) linking to its card.
  function pin(listing, number, [x, y]) {
    const link = svg("a", {
      class: "pin",
      href: `#listing-${number}`,
      "data-number": number,
      "data-lat": listing.lat,
      "data-lon": listing.lon,
      "aria-label": `${number}. ${listingTitle(listing)}`,
    });
    link.append(
      svg("title", {}, `${number}. ${listingTitle(listing)}`),
      svg("path", { class: "pin-body", d: `M${x} ${y}l-7 -11a9 9 0 1 1 14 0z` }),
      svg("text", { class: "pin-number", x, y: y - 16.5, "text-anchor": "middle", "dominant-baseline": "central" }, String(number)),
    );
    link.addEventListener("click", (event) => {
      event.preventDefault(); // no change of the page's address: just show the card
      const target = $(`listing-${number}`);
      if (!target) return;
      target.scrollIntoView({ block: "nearest" });
      target.focus({ preventScroll: true });
    });
    return link;
  }

  // ---- entries ----

  // One entry (from the history, a `reply` event or an HTTP answer), rendered at most once.
  function renderEntry(entry) {
    if (typeof entry.seq !== "number" || entry.seq <= state.lastSeq) return;
    state.lastSeq = entry.seq;
    if (entry.kind === "message") {
      renderMessage(entry);
    } else if (entry.kind === "edit") {
      note(labels().edited);
    } else if (entry.kind === "confirm") {
      note(labels().confirmed);
    }
    if (entry.reply) place(bubble("bot", entry.reply));
    // The reply came before the model finished: say so until its refinement (or nothing) comes.
    if (entry.refining) showTyping(true, true);
    else if (entry.kind === "refine" && state.reading) showTyping(false);
  }

  // The prospect's side of a message entry: our own pending bubble, or one sent elsewhere.
  function renderMessage(entry) {
    const id = entry.client_message_id;
    const mine = id ? state.pending.get(id) : undefined;
    if (!mine) {
      place(bubble("user", entry.text));
      return;
    }
    state.pending.delete(id);
    state.inFlight = state.inFlight.filter((other) => other !== id);
    mine.element.classList.remove("pending", "failed");
    mine.element.removeAttribute("title");
    place(mine.element); // also brings back a bubble given back for editing
  }

  // ---- HTTP ----

  class ServiceError extends Error {
    constructor(status, retryAfter) {
      super(`HTTP ${status}`);
      this.status = status;
      this.retryAfter = retryAfter;
    }
  }

  async function request(method, path, body) {
    const headers = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (state.token) headers.authorization = `Bearer ${state.token}`;
    const response = await fetch(new URL(path, window.location.href), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    const retryAfter = Number(response.headers.get("retry-after")) || 0;
    return { status: response.status, data, retryAfter };
  }

  function conversationPath() {
    return `v1/conversations/${encodeURIComponent(state.id)}`;
  }

  // ---- the stored conversation ----

  function remember() {
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify({ id: state.id, token: state.token }));
    } catch (error) {
      // Storage refused (private mode, blocked in a frame): the chat works, a reload starts over.
    }
  }

  function remembered() {
    try {
      const stored = JSON.parse(window.localStorage.getItem(STORE_KEY) || "null");
      return stored && typeof stored.id === "string" && typeof stored.token === "string" ? stored : null;
    } catch (error) {
      return null;
    }
  }

  function forget() {
    try {
      window.localStorage.removeItem(STORE_KEY);
    } catch (error) {
      // Nothing was stored.
    }
  }

  // ---- opening ----

  // Drops the current conversation from the page (not from storage).
  function reset() {
    state.generation += 1;
    closeSocket();
    for (const name of Object.keys(state.timers)) window.clearTimeout(state.timers[name]);
    state.id = null;
    state.token = null;
    state.lastSeq = 0;
    state.briefSeq = 0;
    state.pending.clear();
    state.inFlight = [];
    view.log.replaceChildren();
    view.chips.replaceChildren();
    view.progress.value = 0;
    view.progressText.textContent = "";
    state.listingsFor = "";
    state.listingsAsked += 1;
    clearListings();
    showTyping(false);
    setStatus("");
  }

  // Resumes the stored conversation or opens a new one; on failure tries again later.
  // `message` (optional) is shown first, e.g. why the previous conversation was dropped.
  function boot(message) {
    reset();
    if (message) notice(message);
    setStatus("connecting");
    const generation = state.generation;
    open(generation).catch((error) => {
      if (generation !== state.generation) return;
      const retryAfter = error instanceof ServiceError ? error.retryAfter : 0;
      reset();
      notice(retryAfter ? labels().slowDown(retryAfter) : labels().down);
      state.timers.boot = window.setTimeout(() => boot(), retryAfter * 1000 || BOOT_RETRY_MS);
    });
  }

  async function open(generation) {
    const stored = remembered();
    if (stored) {
      if (await resume(stored, generation)) return;
      if (generation !== state.generation) return;
      forget();
      state.id = null;
      state.token = null;
      notice(labels().gone);
    }
    await start(generation);
  }

  async function start(generation) {
    const answer = await request("POST", "v1/conversations", { language: state.language });
    if (generation !== state.generation) return;
    if (answer.status !== 201 || !answer.data) throw new ServiceError(answer.status, answer.retryAfter);
    state.id = answer.data.id;
    state.token = answer.data.token;
    remember();
    renderEntry({ seq: answer.data.seq, kind: "start", reply: answer.data.reply });
    renderBrief(answer.data.display, answer.data.seq);
    connect();
  }

  // Renders the stored conversation's whole history, page by page; false when it is gone.
  async function resume(stored, generation) {
    state.id = stored.id;
    state.token = stored.token;
    for (;;) {
      const answer = await request("GET", `${conversationPath()}?after=${state.lastSeq}&limit=${HISTORY_PAGE}`);
      if (generation !== state.generation) return true; // dropped meanwhile: nothing to do
      if (answer.status === 404 || answer.status === 401) return false;
      if (answer.status !== 200 || !answer.data) throw new ServiceError(answer.status, answer.retryAfter);
      setLanguage(answer.data.language); // the conversation's language words the whole history
      answer.data.history.forEach(renderEntry);
      renderBrief(answer.data.display, state.lastSeq);
      if (answer.data.history.length < HISTORY_PAGE) break;
    }
    connect();
    return true;
  }

  // The conversation expired or was erased: say so and start a new one.
  function conversationGone() {
    forget();
    boot(labels().gone);
  }

  // ---- the WebSocket ----

  function socketUrl() {
    const url = new URL(`${conversationPath()}/ws`, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("after", String(state.lastSeq));
    return url.toString();
  }

  function connect() {
    window.clearTimeout(state.timers.reconnect);
    if (!state.id || state.socket) return;
    if (state.status !== "reconnecting") setStatus("connecting");
    let socket;
    try {
      socket = new WebSocket(socketUrl());
    } catch (error) {
      scheduleReconnect();
      return;
    }
    state.socket = socket;
    state.ready = false;
    state.inFlight = [];
    const token = state.token;
    socket.addEventListener("open", () => {
      // The server waits a few seconds for this frame, then closes (4401) and we reconnect.
      if (state.socket === socket) socket.send(JSON.stringify({ type: "auth", token }));
    });
    socket.addEventListener("message", (event) => {
      if (state.socket === socket) onFrame(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (state.socket === socket) onClose(event.code);
    });
  }

  function stopSocketTimers() {
    window.clearInterval(state.timers.ping);
    window.clearTimeout(state.timers.pong);
  }

  function closeSocket() {
    stopSocketTimers();
    const socket = state.socket;
    state.socket = null;
    state.ready = false;
    if (socket) socket.close(1000);
  }

  function onClose(code) {
    closeSocket();
    showTyping(false);
    if (code === CLOSE_NOT_FOUND || code === CLOSE_ERASED) {
      conversationGone();
      return;
    }
    scheduleReconnect();
  }

  // Exponential backoff with jitter (so many widgets do not reconnect in step), capped.
  function scheduleReconnect() {
    setStatus("reconnecting");
    const delay = state.backoff * (0.75 + Math.random() * 0.5);
    state.backoff = Math.min(state.backoff * 2, MAX_BACKOFF_MS);
    window.clearTimeout(state.timers.reconnect);
    state.timers.reconnect = window.setTimeout(connect, delay);
  }

  function ping() {
    if (!transmit({ type: "ping" })) return;
    const socket = state.socket;
    window.clearTimeout(state.timers.pong);
    // A connection that silently died (sleep, network change) only shows up as no answer.
    state.timers.pong = window.setTimeout(() => {
      if (state.socket === socket) onClose(1006);
    }, PONG_TIMEOUT_MS);
  }

  function onFrame(data) {
    let event;
    try {
      event = JSON.parse(data);
    } catch (error) {
      return; // not ours to show
    }
    window.clearTimeout(state.timers.pong); // any frame proves the connection is alive
    switch (event.type) {
      case "ready":
        onReady();
        break;
      case "typing":
        showTyping(true);
        break;
      case "reply":
        showTyping(false);
        renderEntry(event);
        break;
      case "brief":
        renderBrief(event.display, event.seq);
        break;
      case "error":
        showTyping(false);
        if (state.ready) onError(event);
        break; // before `ready` it is about the connection, and the close code says what
      default:
        break; // pong, erased (the close code follows), later additions
    }
  }

  function onReady() {
    state.ready = true;
    state.backoff = FIRST_BACKOFF_MS;
    setStatus("online");
    window.clearInterval(state.timers.ping);
    state.timers.ping = window.setInterval(ping, PING_MS);
    // Whatever is still pending got no reply (the replay brought every reply we missed).
    resendPending();
  }

  // ---- sending ----

  function transmit(frame) {
    const socket = state.socket;
    if (!socket || !state.ready || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function transmitMessage(id, text) {
    if (!transmit({ type: "message", text, client_message_id: id })) return; // goes on `ready`
    if (!state.inFlight.includes(id)) state.inFlight.push(id);
  }

  function resendPending() {
    window.clearTimeout(state.timers.resend);
    for (const [id, message] of state.pending) {
      if (!message.failed) transmitMessage(id, message.text);
    }
  }

  function newMessageId() {
    if (window.crypto.randomUUID) return window.crypto.randomUUID();
    // randomUUID needs a secure context; a plain-HTTP deployment gets 128 random bits too.
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Characters as the server counts them (code points, not UTF-16 units).
  function characters(text) {
    return Array.from(text).length;
  }

  function frameTooLarge(text) {
    const frame = JSON.stringify({ type: "message", text, client_message_id: newMessageId() });
    return characters(frame) > MAX_FRAME_CHARS;
  }

  function send(text) {
    const id = newMessageId();
    const element = bubble("user", text);
    element.classList.add("pending");
    view.log.appendChild(element);
    scrollDown();
    state.pending.set(id, { text, element, failed: false });
    transmitMessage(id, text);
  }

  // ---- refusals ----

  // A refused message goes back into the input for editing (or, when the prospect is already
  // typing something else, stays in the log marked as not sent): its text is never lost.
  function giveBack(id) {
    const message = state.pending.get(id);
    if (!message) return;
    message.failed = true;
    state.inFlight = state.inFlight.filter((other) => other !== id);
    if (view.input.value) {
      message.element.classList.remove("pending");
      message.element.classList.add("failed");
      message.element.title = labels().notSent;
      place(message.element);
      return;
    }
    message.element.remove();
    view.input.value = message.text;
    view.input.focus();
  }

  function onError(problem) {
    const text = labels();
    const wait = Number(problem.retry_after) || 0;
    if (problem.status === 429) {
      notice(text.rateLimited(wait || 5));
      retryLater(wait || 5);
    } else if (problem.status === 503) {
      notice(text.busy(wait || 5));
      retryLater(wait || 5);
    } else if (problem.status === 413) {
      refuseTooLong(problem.limit);
    } else {
      const oldest = state.inFlight[0];
      if (oldest) giveBack(oldest);
      notice(text.invalid);
    }
  }

  // Every pending message goes again after the wait: the ones already handled are recognised
  // by their id, so it does not matter which one the refusal was about.
  function retryLater(seconds) {
    window.clearTimeout(state.timers.resend);
    state.timers.resend = window.setTimeout(resendPending, seconds * 1000);
  }

  // Every pending message over the limit is refused the same way: give them all back.
  function refuseTooLong(limit) {
    const tooLong = [];
    for (const [id, message] of state.pending) {
      if (!message.failed && limit && characters(message.text) > limit) tooLong.push(id);
    }
    if (!tooLong.length && state.inFlight.length) tooLong.push(state.inFlight[0]);
    tooLong.forEach(giveBack);
    notice(limit ? labels().tooLong(limit) : labels().tooLongPlain);
  }

  // ---- controls ----

  view.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = view.input.value;
    if (!text.trim()) return;
    if (!state.id) {
      notice(labels().wait);
      return;
    }
    if (frameTooLarge(text)) {
      notice(labels().tooLongPlain);
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
    forget();
    boot();
    view.input.focus();
  });

  view.language.addEventListener("click", () => {
    if (!state.switching) switchLanguage();
  });

  // Switches the labels at once and the conversation by PATCH; its reply (an `edit` entry)
  // comes over the socket like any other.
  async function switchLanguage() {
    const previous = state.language;
    const next = previous === "es" ? "en" : "es";
    setLanguage(next);
    if (!state.id) return;
    const generation = state.generation;
    state.switching = true;
    try {
      const answer = await request("PATCH", `${conversationPath()}/brief`, { language: next });
      if (generation !== state.generation) return;
      if (answer.status === 200 && answer.data) {
        acceptHttpEntry(answer.data, "edit");
      } else if (answer.status === 404 || answer.status === 401) {
        conversationGone();
      } else {
        setLanguage(previous);
        notice(answer.status === 429 ? labels().slowDown(answer.retryAfter || 5) : labels().invalid);
      }
    } catch (error) {
      if (generation === state.generation) {
        setLanguage(previous);
        notice(labels().down);
      }
    } finally {
      state.switching = false;
    }
  }

  // The socket brings every entry; an HTTP answer is shown at once only when it is the very
  // next entry, so one sent elsewhere meanwhile can never be skipped.
  function acceptHttpEntry(data, kind) {
    if (data.seq !== state.lastSeq + 1) return;
    renderEntry({ ...data, kind });
    renderBrief(data.display, data.seq);
  }

  // Back online (laptop woke up, network returned): reconnect now rather than after the wait.
  window.addEventListener("online", () => {
    if (state.id && !state.socket) {
      state.backoff = FIRST_BACKOFF_MS;
      connect();
    }
  });

  applyLabels();
  boot();
})();
