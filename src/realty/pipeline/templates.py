"""Reply texts in Spanish (as written in Mexico) and English (US), as data.

The responder only fills these in, so replies are instant, reviewable in one place and easy
to test. Placeholders use :meth:`str.format` names. Spanish uses the same thousands comma and
decimal point as English, as is usual in Mexico.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from realty.domain.brief import Language, Modality, Period, PropertyKind
from realty.domain.turn import RejectReason

_Texts = Mapping[Language, str]


def _frozen(table: dict[str, dict[Language, str]]) -> Mapping[str, _Texts]:
    return MappingProxyType({k: MappingProxyType(v) for k, v in table.items()})


PHRASES: Mapping[str, _Texts] = _frozen(
    {
        "greet_short": {"en": "Hi!", "es": "¡Hola!"},
        "ask_amount": {
            "en": "the amount of your budget ({known})",
            "es": "el monto de tu presupuesto ({known})",
        },
        "greet": {
            "en": "Hi! I can help you find the right commercial property.",
            "es": "¡Hola! Con gusto te ayudo a encontrar el inmueble comercial ideal.",
        },
        "thanks": {"en": "You're welcome!", "es": "¡Con gusto!"},
        "help": {
            "en": "I help companies and investors find commercial property in Mexico and the "
            "US: offices, warehouses, industrial buildings, retail space, land and more. "
            "With a few details I can put your search together.",
            "es": "Ayudo a empresas e inversionistas a encontrar inmuebles comerciales en México "
            "y Estados Unidos: oficinas, bodegas, naves industriales, locales, terrenos y más. "
            "Con unos cuantos datos armo tu búsqueda.",
        },
        "help_complete": {
            "en": "Your brief is complete; tell me if you'd like to change anything.",
            "es": "Tu búsqueda ya está completa; dime si quieres cambiar algo.",
        },
        "redirect": {
            "en": "I can help you find commercial property, such as offices, warehouses or "
            "retail space.",
            "es": "Puedo ayudarte a encontrar inmuebles comerciales, como oficinas, bodegas o "
            "locales.",
        },
        "reprompt": {
            "en": "Sorry, I didn't understand that.",
            "es": "Perdón, no entendí tu mensaje.",
        },
        "restarted": {"en": "Sure, let's start over.", "es": "Claro, empecemos de nuevo."},
        "confirmed": {
            "en": "Great, your brief is confirmed.",
            "es": "Excelente, tu búsqueda quedó confirmada.",
        },
        "confirmed_again": {
            "en": "Your brief is already confirmed. Reply with a number to see one of the "
            "listings, ask me for more, or tell me what to change.",
            "es": "Tu búsqueda ya está confirmada. Responde con un número para ver uno de los "
            "inmuebles, pídeme más opciones o dime qué cambiar.",
        },
        "change_what": {
            "en": "What would you like to change?",
            "es": "¿Qué te gustaría cambiar?",
        },
        "fallback": {
            "en": "How can I help with your property search?",
            "es": "¿En qué te ayudo con tu búsqueda de inmueble?",
        },
        "blocked_empty": {
            "en": "Your message came through empty. What are you looking for?",
            "es": "Tu mensaje llegó vacío. ¿Qué estás buscando?",
        },
        "blocked_too_long": {
            "en": "Your message is too long for me to read{limit}. Could you send a shorter one?",
            "es": "Tu mensaje es demasiado largo para leerlo{limit}. ¿Me lo envías más corto?",
        },
        # Refusals of an attack: never repeat the message, lead back to the brief.
        "blocked_attack": {
            "en": "I can only help you find a commercial property.",
            "es": "Solo puedo ayudarte a encontrar un inmueble comercial.",
        },
        "blocked_other_users_data": {
            "en": "I can't share anything about other people or their searches; I can only "
            "help you with yours.",
            "es": "No puedo compartir información de otras personas ni de sus búsquedas; solo "
            "puedo ayudarte con la tuya.",
        },
        "blocked_harmful": {
            "en": "I can't help with that; I can only help you find a commercial property.",
            "es": "No puedo ayudarte con eso; solo puedo ayudarte a encontrar un inmueble "
            "comercial.",
        },
        "blocked_continue": {
            "en": "Shall we continue with your brief?",
            "es": "¿Seguimos con tu búsqueda?",
        },
        "limit": {
            "en": " (the limit is {limit} characters)",
            "es": " (el límite es de {limit} caracteres)",
        },
        "got_it": {"en": "Got it: {items}.", "es": "Perfecto: {items}."},
        "noted": {"en": "Noted: {items}.", "es": "Anotado: {items}."},
        "also_noted": {"en": "Also noted: {items}.", "es": "También anoté: {items}."},
        "updated": {
            "en": "Updated {subject} to {new} (was {old}).",
            "es": "Cambio anotado: {subject} ahora es {new} (antes {old}).",
        },
        "removed": {
            "en": 'Done, I removed "{label}" from your brief.',
            "es": "Listo, quité «{label}» de tu búsqueda.",
        },
        "ask_what": {"en": "What is {items}?", "es": "¿Cuál es {items}?"},
        "ask_tell": {"en": "Could you tell me {items}?", "es": "¿Me podrías decir {items}?"},
        "ask_again": {
            "en": "Whenever you're ready, could you tell me {items}?",
            "es": "Cuando lo tengas, ¿me podrías decir {items}?",
        },
        "clarify_city": {
            "en": 'I couldn\'t find "{text}". Did you mean {options}?',
            "es": "No encontré «{text}». ¿Te refieres a {options}?",
        },
        "choose_city": {
            "en": "I search one city at a time: which one first, {options}?",
            "es": "Busco en una ciudad a la vez: ¿cuál primero, {options}?",
        },
        "choose_region_city": {
            "en": "{text} is a region, and I search one city at a time: which one, {options}?",
            "es": "{text} es una región y busco en una ciudad a la vez: ¿cuál, {options}?",
        },
        "unknown_city": {
            "en": 'I didn\'t recognise "{text}" as a city.',
            "es": "No reconocí «{text}» como ciudad.",
        },
        "clarify_currency": {
            "en": "Is {amount} in {options}?",
            "es": "¿Los {amount} son {options}?",
        },
        "confirm_type": {
            "en": 'Just to confirm: you\'re looking for "{text}", is that right?',
            "es": "Para confirmar: buscas «{text}», ¿correcto?",
        },
        "confirm_type_proposed": {
            "en": 'For "{text}" I understand you need this type: {kind}. Is that right?',
            "es": "Para «{text}» entiendo que buscas este tipo: {kind}, ¿correcto?",
        },
        "confirm_type_blank": {
            "en": "Just to confirm: you're looking for a less common type of property, "
            "is that right?",
            "es": "Para confirmar: buscas un tipo de inmueble poco común, ¿correcto?",
        },
        "noted_unknown": {
            "en": "No problem, we can settle {items} later.",
            "es": "Sin problema, podemos definir {items} más adelante.",
        },
        "noted_unknown_tail": {
            "en": "Just tell me when you know.",
            "es": "Avísame cuando lo sepas.",
        },
        "summary": {
            "en": "Here is your brief: {items}. Is everything correct?",
            "es": "Este es el resumen de tu búsqueda: {items}. ¿Está todo correcto?",
        },
        "summary_changed": {
            "en": "Here is your updated brief: {items}. Is everything correct?",
            "es": "Este es el resumen actualizado de tu búsqueda: {items}. ¿Está todo correcto?",
        },
        "also": {"en": "also {items}", "es": "además {items}"},
        "assumed": {"en": "(I assumed {currency})", "es": "(asumí {currency})"},
        "to_confirm": {"en": "(to be confirmed)", "es": "(por confirmar)"},
        "kind_in_city": {"en": "{kind} in {city}", "es": "{kind} en {city}"},
        "money_item": {"en": "{label} {value}", "es": "{label} de {value}"},
        "labelled": {"en": "{label}: {value}", "es": "{label}: {value}"},
        "negated": {"en": "no {label}", "es": "sin {label}"},
        "from": {"en": "from {value}", "es": "desde {value}"},
        "kept": {"en": ", so I kept {kept}.", "es": "; conservé {kept}."},
        "and": {"en": "and", "es": "y"},
        "or": {"en": "or", "es": "o"},
        "yes": {"en": "yes", "es": "sí"},
        "no": {"en": "no", "es": "no"},
    }
)

# Why a value was rejected; ``{subject}`` is the field with its article, ``{label}`` bare.
REJECTIONS: Mapping[RejectReason, _Texts] = MappingProxyType(
    {
        "non_positive_amount": {
            "en": "A {label} has to be greater than zero",
            "es": "{Subject} debe ser mayor que cero",
        },
        "amount_out_of_range": {
            "en": "A {label} can't be above one trillion (1,000,000,000,000)",
            "es": "{Subject} no puede pasar de un billón (1,000,000,000,000)",
        },
        "range_inverted": {
            "en": "The minimum can't be higher than the maximum",
            "es": "El mínimo no puede ser mayor que el máximo",
        },
        "size_out_of_range": {
            "en": "The size must be between 1 and 1,000,000 m²",
            "es": "La superficie debe estar entre 1 y 1,000,000 m²",
        },
        "negative_count": {
            "en": "The number of {label} can't be negative",
            "es": "La cantidad de {label} no puede ser negativa",
        },
        "date_in_past": {
            "en": "The {label} can't be in the past",
            "es": "{Subject} no puede estar en el pasado",
        },
        "unknown_field_type": {
            "en": "I couldn't use that value for the {label}",
            "es": "No pude usar ese valor para {subject}",
        },
        "brief_full": {
            "en": "Your brief already holds as many details as it can, so I couldn't add the "
            "{label}; your message is kept in the conversation",
            "es": "Tu solicitud ya tiene todos los detalles que admite, así que no pude añadir "
            "{subject}; tu mensaje queda guardado en la conversación",
        },
    }
)

KIND_NAMES: Mapping[Language, Mapping[PropertyKind, str]] = MappingProxyType(
    {
        "en": {
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
            "other": "property",
        },
        "es": {
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
            "other": "inmueble",
        },
    }
)

# Gazetteer names (English) that Spanish speakers write differently.
CITY_NAMES_ES: Mapping[str, str] = MappingProxyType(
    {
        "Mexico City": "Ciudad de México",
        "New York City": "Nueva York",
        "New York": "Nueva York",
        "New Orleans": "Nueva Orleans",
        "Philadelphia": "Filadelfia",
    }
)

CURRENCY_NAMES: Mapping[Language, Mapping[str, str]] = MappingProxyType(
    {
        "en": {
            "MXN": "Mexican pesos",
            "USD": "US dollars",
            "EUR": "euros",
            "CAD": "Canadian dollars",
        },
        "es": {
            "MXN": "pesos mexicanos",
            "USD": "dólares estadounidenses",
            "EUR": "euros",
            "CAD": "dólares canadienses",
        },
    }
)

PERIODS: Mapping[Language, Mapping[Period, str]] = MappingProxyType(
    {
        "en": {"month": "per month", "total": "in total"},
        "es": {"month": "al mes", "total": "en total"},
    }
)

# The compact forms a form or a sidebar shows: "20,000 USD / month, rent".
SHORT_PERIODS: Mapping[Language, Mapping[Period, str]] = MappingProxyType(
    {
        "en": {"month": "/ month", "total": "total"},
        "es": {"month": "/ mes", "total": "total"},
    }
)

SHORT_MODALITIES: Mapping[Language, Mapping[Modality, str]] = MappingProxyType(
    {
        "en": {"rent": "rent", "buy": "purchase"},
        "es": {"rent": "renta", "buy": "compra"},
    }
)

MODALITIES: Mapping[Language, Mapping[Modality, str]] = MappingProxyType(
    {
        "en": {"rent": "to rent", "buy": "to buy"},
        "es": {"rent": "para renta", "buy": "para compra"},
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

# Spanish articles for the fields we know, so sentences agree in gender and number; other
# fields are named in quotes after "el dato".
ES_ARTICLES: Mapping[str, str] = MappingProxyType(
    {
        "property_type": "el",
        "city": "la",
        "budget": "el",
        "size": "la",
        "move_in_date": "la",
        "visit_date": "la",
        "parking_spaces": "los",
        "loading_docks": "los",
        "bedrooms": "las",
        "bathrooms": "los",
        "floor": "el",
        "lease_term_months": "el",
        "employees": "las",
        "ceiling_height": "la",
        "zone": "la",
        "top_priority": "la",
    }
)

# First words of a field question that make it a clause ("in which city") rather than a noun
# phrase ("your budget"): clauses read "Could you tell me …?", noun phrases "What is …?".
CLAUSE_STARTS: Mapping[Language, frozenset[str]] = MappingProxyType(
    {
        "en": frozenset(
            {"what", "which", "how", "when", "where", "why", "who", "in", "if", "whether"}
        ),
        "es": frozenset(
            {
                "qué",
                "que",
                "cuál",
                "cuáles",
                "cómo",
                "cuándo",
                "dónde",
                "cuánto",
                "cuánta",
                "cuántos",
                "cuántas",
                "en",
                "si",
                "quién",
            }
        ),
    }
)

# Unit words that show an area was given in something other than square metres, so the
# original is shown next to the converted figure.
FOREIGN_AREA_UNITS: frozenset[str] = frozenset(
    {
        "ft",
        "ft2",
        "sq",
        "sqft",
        "feet",
        "foot",
        "pies",
        "pie",
        "acre",
        "acres",
        "ha",
        "hectare",
        "hectares",
        "hectarea",
        "hectareas",
        "hectárea",
        "hectáreas",
        "yd",
        "yards",
        "varas",
    }
)
