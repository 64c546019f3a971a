"""Every label of the app in English and Spanish (as written in Mexico).

Values of the brief come from the API already in words (``display``); this module holds only
the app's own words: titles, buttons, notes and messages. :func:`text` fills ``{placeholders}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
LANGUAGE_NAMES: Mapping[Language, str] = MappingProxyType({"en": "English", "es": "Español"})

_EN: dict[str, str] = {
    # navigation
    "page_chat": "Chat",
    "page_dashboard": "Staff dashboard",
    # chat
    "chat_title": "Find your commercial property",
    "chat_caption": "Tell the assistant what you need; your brief fills in on the left.",
    "chat_placeholder": "Write your message…",
    "typing": "Typing…",
    "refining": "Still reading the details of your last message…",
    "connecting": "Connecting…",
    "start_over": "Start over",
    "started_over": "You started a new conversation.",
    "resumed_gone": "Your previous conversation has expired or could not be found, so we "
    "started a new one. We're sorry for the inconvenience.",
    "not_started": "The conversation could not start yet. Write your message and we'll try again.",
    "unsent": "Not sent",
    "send_again": "Send again",
    "discard": "Discard",
    "note_edit": "You edited the brief.",
    "note_language": "You switched the language.",
    "note_confirm": "You confirmed the brief.",
    "blocked_note": "This message was not taken into account.",
    "empty_message": "(an empty message)",
    # the brief (sidebar)
    "your_brief": "Your brief",
    "progress": "{filled} of {required} details",
    "language": "Language",
    "source_parser": "read from your message",
    "source_llm": "understood by the assistant",
    "source_user_edit": "edited by you",
    "unconfirmed": "unconfirmed",
    "still_needed": "Still needed",
    "edit": "Edit",
    "add": "Add",
    "save": "Save",
    "remove": "Remove",
    "value_words": "In your words",
    "hint_budget": "e.g. 20,000 USD a month",
    "hint_size": "e.g. 650 m²",
    "hint_city": "e.g. Monterrey",
    "choose_kind": "Property type",
    "extras": "Other details",
    "summary": "Summary",
    "confirm": "Confirm",
    "confirmed": "Confirmed: the listings that fit are below.",
    "edit_refused": "The change was not saved:",
    "empty_value": "Write a value first.",
    # listings that fit (under the chat)
    "listings_title": "Listings that fit",
    "listings_preview": "Preview",
    "listings_preview_note": "A first look from the property type and city; the list gets "
    "sharper as your brief fills in.",
    "listings_count": "{shown} of {total} listings that fit",
    "listings_none": "No listing fits your brief exactly yet.",
    "listings_error": "The listings could not be loaded right now; they will be tried again "
    "with your next message.",
    "market_check": "Market check",
    "map_caption": "Where they are: the pins follow the cards' order.",
    "card_size": "{m2} m²",
    "card_price_rent": "{price} {currency} a month",
    "card_price_sale": "{price} {currency} for sale",
    "card_per_m2_rent": "{price} {currency}/m² a month",
    "card_per_m2_sale": "{price} {currency}/m²",
    "card_why": "Why it fits",
    "card_amenities": "Amenities",
    "card_details": "Details",
    "card_on_map": "OpenStreetMap",
    "available_now": "Available now",
    "available_from": "Available from {date}",
    "available_unknown": "Availability not stated",
    "date_long": "{month} {day}, {year}",
    "detail_title": "Listing details",
    "detail_id": "Listing id",
    "detail_offer": "Offer",
    "detail_offer_rent": "for rent",
    "detail_offer_sale": "for sale",
    "detail_price": "Price",
    "detail_per_m2": "Price per m²",
    "detail_size": "Size",
    "detail_availability": "Availability",
    "detail_place": "Where",
    "detail_coordinates": "Coordinates",
    "detail_gone": "This listing is no longer on offer.",
    "close": "Close",
    # errors
    "err_unavailable": "The service is not answering right now; your message was not sent. "
    "Try again in a moment.",
    "err_unavailable_action": "The service is not answering right now; nothing was changed. "
    "Try again in a moment.",
    "err_unavailable_start": "The service is not answering right now, so the conversation "
    "could not start. Try again in a moment.",
    "err_rate_limited": "You're sending messages very quickly. Please wait {seconds} seconds "
    "and try again.",
    "err_too_long": "Your message is too long: the limit is {limit} characters. Nothing was "
    "sent; please shorten it.",
    "err_too_long_unknown": "Your message is too long. Nothing was sent; please shorten it.",
    "err_problem": "Something went wrong: {title}.",
    "err_settings": "The app is not configured correctly: {detail}",
    # dashboard
    "dash_title": "Staff dashboard",
    "staff_key": "Staff key",
    "staff_key_help": "The API's REALTY_STAFF_API_KEY. Kept only for this browser session.",
    "sign_in": "Sign in",
    "sign_out": "Sign out",
    "err_wrong_key": "That staff key is not valid. Please check it and try again.",
    "err_staff_disabled": "The staff API is disabled on the server: set REALTY_STAFF_API_KEY "
    "for the API and restart it.",
    "err_dash_unavailable": "The service is not answering right now. Try again in a moment.",
    "window": "Window",
    "days_n": "{days} days",
    "m_conversations": "Conversations",
    "m_engaged": "Engaged",
    "m_completion": "Completion rate",
    "m_leads": "Leads",
    "m_blocked": "Blocked inputs",
    "m_llm_per_turn": "Model calls per turn",
    "m_p50": "p50 latency",
    "m_p95": "p95 latency",
    "c_per_day": "Conversations per day",
    "c_completion": "Completion rate per day",
    "c_turns_to_completion": "Turns to completion",
    "c_fill_rate": "Fill rate per field",
    "c_blocked_day": "Blocked inputs per day",
    "c_blocked_reason": "Blocked inputs by reason",
    "c_llm_histogram": "Model calls per turn",
    "c_latency": "Turn latency per day (ms)",
    "s_opened": "opened",
    "s_completed": "completed",
    "ax_date": "Day (UTC)",
    "ax_count": "Count",
    "ax_rate": "Rate",
    "ax_turns": "User turns",
    "ax_field": "Field",
    "ax_reason": "Reason",
    "ax_calls": "Model calls in the turn",
    "ax_ms": "Milliseconds",
    "mean_calls": "mean {mean} calls per turn",
    "no_data": "No data in this window yet.",
    "leads": "Leads",
    "f_city": "City",
    "f_type": "Property type",
    "f_status": "Status",
    "f_created_from": "Created from (UTC)",
    "f_created_to": "Created until (UTC)",
    "any": "Any",
    "status_new": "new",
    "status_confirmed": "confirmed",
    "status_handoff": "wants a broker",
    "m_sentiment": "Mean sentiment",
    "c_intents": "Messages by intent",
    "ax_intent": "intent",
    "intent_give_details": "gives details",
    "intent_ask_question": "asks a question",
    "intent_market": "asks about prices",
    "intent_search": "wants listings",
    "intent_simulate": "asks for a cost",
    "intent_book_visit": "wants a visit",
    "intent_talk_to_person": "wants a person",
    "intent_greeting": "greets",
    "intent_off_topic": "off topic",
    "no_leads": "No leads match these filters.",
    "download_csv": "Download CSV",
    "export_capped": "The download holds the {cap} most recently updated leads (the limit).",
    "lead_detail": "Lead detail",
    "choose_lead": "Lead",
    "lead_brief": "Brief",
    "lead_contact": "Contact",
    "lead_channel": "Channel",
    "lead_status": "Status",
    "lead_created": "Created",
    "lead_updated": "Updated",
    "lead_language": "Language",
    "transcript": "Transcript",
    "kind_start": "greeting",
    "kind_message": "message",
    "kind_edit": "edit",
    "kind_confirm": "confirmation",
    "lead_gone": "This lead no longer exists.",
    "none": "—",
    "col_updated": "Updated",
    "col_created": "Created",
    "col_status": "Status",
    "col_city": "City",
    "col_type": "Type",
    "col_summary": "Brief",
    "col_contact": "Contact",
    "col_channel": "Channel",
    "col_id": "Lead id",
}

_ES: dict[str, str] = {
    "page_chat": "Chat",
    "page_dashboard": "Panel del equipo",
    "chat_title": "Encuentra tu inmueble comercial",
    "chat_caption": "Cuéntale al asistente lo que necesitas; tu búsqueda se va llenando a la "
    "izquierda.",
    "chat_placeholder": "Escribe tu mensaje…",
    "typing": "Escribiendo…",
    "refining": "Sigo leyendo los detalles de tu último mensaje…",
    "connecting": "Conectando…",
    "start_over": "Empezar de nuevo",
    "started_over": "Empezaste una conversación nueva.",
    "resumed_gone": "Tu conversación anterior expiró o no se encontró, así que empezamos una "
    "nueva. Disculpa las molestias.",
    "not_started": "La conversación todavía no pudo empezar. Escribe tu mensaje y lo "
    "intentaremos de nuevo.",
    "unsent": "No enviado",
    "send_again": "Enviar de nuevo",
    "discard": "Descartar",
    "note_edit": "Editaste tu búsqueda.",
    "note_language": "Cambiaste el idioma.",
    "note_confirm": "Confirmaste tu búsqueda.",
    "blocked_note": "Este mensaje no se tomó en cuenta.",
    "empty_message": "(un mensaje vacío)",
    "your_brief": "Tu búsqueda",
    "progress": "{filled} de {required} datos",
    "language": "Idioma",
    "source_parser": "tomado de tu mensaje",
    "source_llm": "entendido por el asistente",
    "source_user_edit": "editado por ti",
    "unconfirmed": "sin confirmar",
    "still_needed": "Falta",
    "edit": "Editar",
    "add": "Agregar",
    "save": "Guardar",
    "remove": "Quitar",
    "value_words": "En tus palabras",
    "hint_budget": "p. ej. 20 mil dólares al mes",
    "hint_size": "p. ej. 650 m²",
    "hint_city": "p. ej. Monterrey",
    "choose_kind": "Tipo de inmueble",
    "extras": "Otros detalles",
    "summary": "Resumen",
    "confirm": "Confirmar",
    "confirmed": "Confirmada: abajo están los inmuebles que coinciden.",
    "edit_refused": "El cambio no se guardó:",
    "empty_value": "Escribe un valor primero.",
    "listings_title": "Inmuebles que coinciden",
    "listings_preview": "Vista previa",
    "listings_preview_note": "Un primer vistazo según el tipo de inmueble y la ciudad; la "
    "lista se afina conforme completas tu búsqueda.",
    "listings_count": "{shown} de {total} inmuebles que coinciden",
    "listings_none": "Todavía ningún inmueble coincide exactamente con tu búsqueda.",
    "listings_error": "No se pudieron cargar los inmuebles en este momento; se intentará de "
    "nuevo con tu próximo mensaje.",
    "market_check": "Comparación con el mercado",
    "map_caption": "Dónde están: los marcadores siguen el orden de las tarjetas.",
    "card_size": "{m2} m²",
    "card_price_rent": "{price} {currency} al mes",
    "card_price_sale": "{price} {currency} en venta",
    "card_per_m2_rent": "{price} {currency}/m² al mes",
    "card_per_m2_sale": "{price} {currency}/m²",
    "card_why": "Por qué coincide",
    "card_amenities": "Amenidades",
    "card_details": "Detalles",
    "card_on_map": "OpenStreetMap",
    "available_now": "Disponible ya",
    "available_from": "Disponible desde el {date}",
    "available_unknown": "Disponibilidad sin dato",
    "date_long": "{day} de {month} de {year}",
    "detail_title": "Detalle del inmueble",
    "detail_id": "Id del inmueble",
    "detail_offer": "Operación",
    "detail_offer_rent": "en renta",
    "detail_offer_sale": "en venta",
    "detail_price": "Precio",
    "detail_per_m2": "Precio por m²",
    "detail_size": "Superficie",
    "detail_availability": "Disponibilidad",
    "detail_place": "Ubicación",
    "detail_coordinates": "Coordenadas",
    "detail_gone": "Este inmueble ya no está en oferta.",
    "close": "Cerrar",
    "err_unavailable": "El servicio no está respondiendo en este momento; tu mensaje no se "
    "envió. Inténtalo de nuevo en un momento.",
    "err_unavailable_action": "El servicio no está respondiendo en este momento; no se cambió "
    "nada. Inténtalo de nuevo en un momento.",
    "err_unavailable_start": "El servicio no está respondiendo en este momento, así que la "
    "conversación no pudo empezar. Inténtalo de nuevo en un momento.",
    "err_rate_limited": "Estás enviando mensajes muy rápido. Espera {seconds} segundos e "
    "inténtalo de nuevo.",
    "err_too_long": "Tu mensaje es demasiado largo: el límite es de {limit} caracteres. No se "
    "envió nada; acórtalo, por favor.",
    "err_too_long_unknown": "Tu mensaje es demasiado largo. No se envió nada; acórtalo, por favor.",
    "err_problem": "Algo salió mal: {title}.",
    "err_settings": "La app no está bien configurada: {detail}",
    "dash_title": "Panel del equipo",
    "staff_key": "Clave del equipo",
    "staff_key_help": "La REALTY_STAFF_API_KEY de la API. Se guarda solo en esta sesión del "
    "navegador.",
    "sign_in": "Entrar",
    "sign_out": "Salir",
    "err_wrong_key": "Esa clave del equipo no es válida. Revísala e inténtalo de nuevo.",
    "err_staff_disabled": "La API del equipo está desactivada en el servidor: define "
    "REALTY_STAFF_API_KEY en la API y reiníciala.",
    "err_dash_unavailable": "El servicio no está respondiendo en este momento. Inténtalo de "
    "nuevo en un momento.",
    "window": "Periodo",
    "days_n": "{days} días",
    "m_conversations": "Conversaciones",
    "m_engaged": "Con respuesta",
    "m_completion": "Tasa de compleción",
    "m_leads": "Prospectos",
    "m_blocked": "Entradas bloqueadas",
    "m_llm_per_turn": "Llamadas al modelo por turno",
    "m_p50": "Latencia p50",
    "m_p95": "Latencia p95",
    "c_per_day": "Conversaciones por día",
    "c_completion": "Tasa de compleción por día",
    "c_turns_to_completion": "Turnos hasta completar",
    "c_fill_rate": "Llenado por campo",
    "c_blocked_day": "Entradas bloqueadas por día",
    "c_blocked_reason": "Entradas bloqueadas por motivo",
    "c_llm_histogram": "Llamadas al modelo por turno",
    "c_latency": "Latencia por turno y día (ms)",
    "s_opened": "abiertas",
    "s_completed": "completadas",
    "ax_date": "Día (UTC)",
    "ax_count": "Cantidad",
    "ax_rate": "Tasa",
    "ax_turns": "Turnos del usuario",
    "ax_field": "Campo",
    "ax_reason": "Motivo",
    "ax_calls": "Llamadas al modelo en el turno",
    "ax_ms": "Milisegundos",
    "mean_calls": "promedio {mean} llamadas por turno",
    "no_data": "Todavía no hay datos en este periodo.",
    "leads": "Prospectos",
    "f_city": "Ciudad",
    "f_type": "Tipo de inmueble",
    "f_status": "Estado",
    "f_created_from": "Creado desde (UTC)",
    "f_created_to": "Creado hasta (UTC)",
    "any": "Todos",
    "status_new": "nuevo",
    "status_confirmed": "confirmado",
    "status_handoff": "pide un asesor",
    "m_sentiment": "Sentimiento medio",
    "c_intents": "Mensajes por intención",
    "ax_intent": "intención",
    "intent_give_details": "da detalles",
    "intent_ask_question": "pregunta",
    "intent_market": "pregunta por precios",
    "intent_search": "pide inmuebles",
    "intent_simulate": "pide un costo",
    "intent_book_visit": "pide una visita",
    "intent_talk_to_person": "pide una persona",
    "intent_greeting": "saluda",
    "intent_off_topic": "fuera de tema",
    "no_leads": "Ningún prospecto coincide con estos filtros.",
    "download_csv": "Descargar CSV",
    "export_capped": "La descarga incluye los {cap} prospectos actualizados más recientemente "
    "(el límite).",
    "lead_detail": "Detalle del prospecto",
    "choose_lead": "Prospecto",
    "lead_brief": "Búsqueda",
    "lead_contact": "Contacto",
    "lead_channel": "Canal",
    "lead_status": "Estado",
    "lead_created": "Creado",
    "lead_updated": "Actualizado",
    "lead_language": "Idioma",
    "transcript": "Conversación",
    "kind_start": "saludo",
    "kind_message": "mensaje",
    "kind_edit": "edición",
    "kind_confirm": "confirmación",
    "lead_gone": "Este prospecto ya no existe.",
    "none": "—",
    "col_updated": "Actualizado",
    "col_created": "Creado",
    "col_status": "Estado",
    "col_city": "Ciudad",
    "col_type": "Tipo",
    "col_summary": "Búsqueda",
    "col_contact": "Contacto",
    "col_channel": "Canal",
    "col_id": "Id del prospecto",
}

TEXTS: Mapping[Language, Mapping[str, str]] = MappingProxyType(
    {"en": MappingProxyType(_EN), "es": MappingProxyType(_ES)}
)

# The property kinds a form may choose (the API's kinds, without ``other``, which keeps the
# prospect's own words and is set by writing them in the chat). The app is deployed apart from the
# API, so it keeps its own copy; a test checks it against the API's.
PROPERTY_KINDS: tuple[str, ...] = (
    "office",
    "warehouse",
    "industrial",
    "retail",
    "land",
    "coworking",
    "medical",
    "hotel",
    "mixed_use",
    "apartment",
    "house",
)
KIND_NAMES: Mapping[Language, Mapping[str, str]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                "office": "office",
                "warehouse": "warehouse",
                "industrial": "industrial building",
                "retail": "retail space",
                "land": "land",
                "coworking": "coworking space",
                "medical": "medical office",
                "hotel": "hotel",
                "mixed_use": "mixed-use property",
                "apartment": "apartment",
                "house": "house",
            }
        ),
        "es": MappingProxyType(
            {
                "office": "oficina",
                "warehouse": "bodega",
                "industrial": "nave industrial",
                "retail": "local comercial",
                "land": "terreno",
                "coworking": "coworking",
                "medical": "consultorio",
                "hotel": "hotel",
                "mixed_use": "uso mixto",
                "apartment": "departamento",
                "house": "casa",
            }
        ),
    }
)


# A listing's amenities in words, by the API's keys (``Listing.amenities``): ``{n}`` is the
# count or measure; ``*_one`` is the wording for exactly one. As with the kinds, the app keeps
# its own copy and a test checks it against the API's keys.
AMENITY_WORDS: Mapping[Language, Mapping[str, str]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                "parking_spaces": "{n} parking spaces",
                "parking_spaces_one": "1 parking space",
                "loading_docks": "{n} loading docks",
                "loading_docks_one": "1 loading dock",
                "ceiling_height": "{n} m clear height",
                "power_kva": "{n} kVA of power",
                "three_phase_power": "three-phase power",
                "furnished": "furnished",
                "security_24h": "24/7 security",
                "elevator": "elevator",
                "air_conditioning": "air conditioning",
                "pets_allowed": "pet friendly",
                "bedrooms": "{n} bedrooms",
                "bedrooms_one": "1 bedroom",
                "bathrooms": "{n} bathrooms",
                "bathrooms_one": "1 bathroom",
            }
        ),
        "es": MappingProxyType(
            {
                "parking_spaces": "{n} cajones de estacionamiento",
                "parking_spaces_one": "1 cajón de estacionamiento",
                "loading_docks": "{n} andenes de carga",
                "loading_docks_one": "1 andén de carga",
                "ceiling_height": "altura libre de {n} m",
                "power_kva": "{n} kVA de potencia",
                "three_phase_power": "energía trifásica",
                "furnished": "amueblado",
                "security_24h": "seguridad 24/7",
                "elevator": "elevador",
                "air_conditioning": "aire acondicionado",
                "pets_allowed": "acepta mascotas",
                "bedrooms": "{n} recámaras",
                "bedrooms_one": "1 recámara",
                "bathrooms": "{n} baños",
                "bathrooms_one": "1 baño",
            }
        ),
    }
)
MONTHS: Mapping[Language, tuple[str, ...]] = MappingProxyType(
    {
        "en": (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        "es": (
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ),
    }
)


def text(language: Language, key: str, **values: object) -> str:
    """The label ``key`` in ``language``, with ``{placeholders}`` filled from ``values``.

    Raises:
        KeyError: ``key`` is not a label (a programming error, caught by the tests).
    """
    template = TEXTS[language][key]
    return template.format(**values) if values else template


def kind_name(language: Language, kind: str) -> str:
    """A property kind in words (the kind itself when unknown)."""
    return KIND_NAMES[language].get(kind, kind.replace("_", " "))


def amenity_words(language: Language, key: str, n: str | None) -> str:
    """An amenity in words: ``n`` is its count or measure (``None`` for a yes/no one).

    An amenity the app has no words for (added to the API later) reads ``key: n``.
    """
    words = AMENITY_WORDS[language]
    template = words.get(f"{key}_one") if n == "1" else None
    template = template or words.get(key)
    if template is None:
        name = key.replace("_", " ")
        return name if n is None else f"{name}: {n}"
    return template.format(n=n) if n is not None else template


def month_name(language: Language, month: int) -> str:
    """The name of ``month`` (1–12)."""
    return MONTHS[language][month - 1]


def as_language(value: object, default: Language = "en") -> Language:
    """``value`` when it is a supported language, else ``default``."""
    for language in LANGUAGES:
        if value == language:
            return language
    return default
