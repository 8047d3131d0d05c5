/*!
 * Support agent chat widget. Framework-free; everything lives in a Shadow DOM.
 *
 * Embed with one tag:
 *   <script src="https://host/widget.js" async
 *           data-server="https://host"          (default: where this script came from)
 *           data-store-name="Harbor & Pine"     (header title)
 *           data-accent="#1f6f5c"               (any CSS colour)
 *           data-email="..." data-issued-at="..." data-signature="..."
 *                                               (optional signed identity, computed server-side:
 *                                                issued-at = Unix seconds, signature = hex
 *                                                HMAC-SHA256(store secret, email + "\n" + issued-at))
 *           data-greeting="..."                 (optional first line)
 *           data-lang="es"                      (labels: en, es, fr or de; default: the browser's)
 *           data-max-chars="2000"></script>
 * Page API: SupportAgent.open(), SupportAgent.close(), SupportAgent.ask(text) (opens, pre-fills the input).
 *
 * Server API (DESIGN.md §7): POST /api/conversations -> {id, token}, POST /api/conversations/{id}/messages
 * (SSE), GET /api/conversations/{id}, GET /api/conversations/{id}/events (SSE). Every call of a
 * conversation sends "Authorization: Bearer <token>"; the event stream is read with fetch (not
 * EventSource, which cannot send headers), so the token never appears in a URL.
 *
 * Message: {"id", "role": "shopper"|"assistant"|"agent", "text", "created_at", "card"?, "author"?}
 *
 * Cards (message.card): the contract is agent/cards.py, published as JSON Schema at
 * GET /api/cards.schema.json. In short ("type" decides the rest):
 *   order:    order_number, status, currency, items[{title,quantity,unit_price}], total,
 *             shipments[{carrier,tracking_number,status,tracking_url}]
 *   tracking: order_number, parcels[{carrier,tracking_number,status,status_detail,estimated_delivery,
 *             tracking_url,last_event{at,message,location},exception}]
 *   confirm:  summary, items[], amount, address, excluded[]  -> Yes / No buttons send "yes" / "no"
 *   label:    order_number, carrier, tracking_number, label_url, emailed_to, items[]
 *   refund:   order_number, amount, currency, status (refunded / pending_approval / cancelled)
 *   handoff:  ticket_id  -> "You're now chatting with our support team" banner
 * Any "items" entry may also be a plain string ("1 × Stoneware Mug Set - Sand").
 * Statuses are the vendor's words (EasyPost: pre_transit, in_transit, out_for_delivery, delivered,
 * available_for_pickup, return_to_sender, failure, cancelled, error, unknown). Money is a string or number.
 *
 * Security: every piece of server or shopper text is inserted with textContent; links are built
 * with createElement and only for http(s) URLs, opened with rel="noopener noreferrer".
 */
(function () {
  "use strict";

  if (window.__supportAgentWidgetLoaded) return;
  window.__supportAgentWidgetLoaded = true;

  // ------------------------------------------------------------------ configuration

  var script =
    document.currentScript ||
    document.querySelector('script[src*="widget.js"][data-store-name], script[src*="widget.js"]');
  var data = (script && script.dataset) || {};
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var SERVER = (data.server || scriptOrigin).replace(/\/+$/, "");
  var STORE = data.storeName || "Support";

  // The widget's own words in the shopper's language: the store's `data-lang`, else the browser's.
  // The bot's replies follow the language the shopper writes in; these are the labels around them.
  var STRINGS = {
    "en": {
      "answers": "Usually answers in seconds",
      "close": "Close chat",
      "conversation": "Conversation",
      "message": "Message",
      "send": "Send message",
      "placeholder": "Ask about an order, a return…",
      "fineprint": "AI assistant · a person can take over any time",
      "open_with": "Open chat with ",
      "greeting": "Hi! I'm the {store} assistant. I can track an order, start a return or refund, or get you to a person.",
      "order_n": "Order #",
      "your_order": "Your order",
      "carrier": "Carrier",
      "delivered": "Delivered",
      "eta": "Estimated delivery",
      "track_with": "Track with ",
      "the_carrier": "the carrier",
      "no_shipment": "No shipment yet.",
      "total": "Total",
      "shipment": "Shipment",
      "track": "Track",
      "label_ready": "Return label ready",
      "tracking": "Tracking",
      "download_label": "Download label",
      "emailed_to": "Also emailed to ",
      "refund_requested": "Refund requested",
      "refund": "Refund",
      "amount": "Amount",
      "yes": "Yes",
      "no": "No",
      "confirm": "Please confirm",
      "not_included": "Not included: ",
      "address": "Address",
      "item": "Item",
      "support_team": "Support team",
      "retry": "Retry",
      "handed_over": "You're now chatting with our support team",
      "reference": "Reference #",
      "human_replies": "A person from our team will reply here",
      "closed": "Conversation closed — write to start again",
      "dropped": "The connection dropped before the reply finished.",
      "too_fast": "You're sending messages quickly. Please wait {seconds} seconds and retry.",
      "a_few": "a few",
      "too_long": "That message is too long. Please shorten it.",
      "server_error": "Something went wrong ({status}). Your message was kept — please retry.",
      "unreachable": "We couldn't reach the store. Check your connection and retry.",
      "went_wrong": "Something went wrong."
    },
    "es": {
      "answers": "Suele responder en segundos",
      "close": "Cerrar el chat",
      "conversation": "Conversación",
      "message": "Mensaje",
      "send": "Enviar mensaje",
      "placeholder": "Pregunta por un pedido, una devolución…",
      "fineprint": "Asistente de IA · una persona puede intervenir en cualquier momento",
      "open_with": "Abrir el chat con ",
      "greeting": "¡Hola! Soy el asistente de {store}. Puedo seguir un pedido, iniciar una devolución o un reembolso, o ponerte con una persona.",
      "order_n": "Pedido #",
      "your_order": "Tu pedido",
      "carrier": "Transportista",
      "delivered": "Entregado",
      "eta": "Entrega estimada",
      "track_with": "Seguir con ",
      "the_carrier": "el transportista",
      "no_shipment": "Todavía no hay envío.",
      "total": "Total",
      "shipment": "Envío",
      "track": "Seguir",
      "label_ready": "Etiqueta de devolución lista",
      "tracking": "Seguimiento",
      "download_label": "Descargar etiqueta",
      "emailed_to": "También enviado por correo a ",
      "refund_requested": "Reembolso solicitado",
      "refund": "Reembolso",
      "amount": "Importe",
      "yes": "Sí",
      "no": "No",
      "confirm": "Confirma, por favor",
      "not_included": "No incluido: ",
      "address": "Dirección",
      "item": "Artículo",
      "support_team": "Equipo de soporte",
      "retry": "Reintentar",
      "handed_over": "Ahora hablas con nuestro equipo de atención al cliente",
      "reference": "Referencia n.º ",
      "human_replies": "Una persona de nuestro equipo te responderá aquí",
      "closed": "Conversación cerrada: escribe para empezar de nuevo",
      "dropped": "La conexión se cortó antes de terminar la respuesta.",
      "too_fast": "Estás enviando mensajes muy deprisa. Espera {seconds} segundos y vuelve a intentarlo.",
      "a_few": "unos",
      "too_long": "Ese mensaje es demasiado largo. Acórtalo, por favor.",
      "server_error": "Algo ha fallado ({status}). Tu mensaje se ha guardado: vuelve a intentarlo.",
      "unreachable": "No hemos podido conectar con la tienda. Comprueba tu conexión y vuelve a intentarlo.",
      "went_wrong": "Algo ha fallado."
    },
    "fr": {
      "answers": "Répond généralement en quelques secondes",
      "close": "Fermer la discussion",
      "conversation": "Conversation",
      "message": "Message",
      "send": "Envoyer le message",
      "placeholder": "Une question sur une commande, un retour…",
      "fineprint": "Assistant IA · une personne peut prendre le relais à tout moment",
      "open_with": "Ouvrir la discussion avec ",
      "greeting": "Bonjour ! Je suis l'assistant de {store}. Je peux suivre une commande, lancer un retour ou un remboursement, ou vous mettre en relation avec une personne.",
      "order_n": "Commande n° ",
      "your_order": "Votre commande",
      "carrier": "Transporteur",
      "delivered": "Livré",
      "eta": "Livraison prévue",
      "track_with": "Suivre avec ",
      "the_carrier": "le transporteur",
      "no_shipment": "Pas encore d'envoi.",
      "total": "Total",
      "shipment": "Envoi",
      "track": "Suivre",
      "label_ready": "Étiquette de retour prête",
      "tracking": "Suivi",
      "download_label": "Télécharger l'étiquette",
      "emailed_to": "Également envoyé par e-mail à ",
      "refund_requested": "Remboursement demandé",
      "refund": "Remboursement",
      "amount": "Montant",
      "yes": "Oui",
      "no": "Non",
      "confirm": "Merci de confirmer",
      "not_included": "Non inclus : ",
      "address": "Adresse",
      "item": "Article",
      "support_team": "Équipe support",
      "retry": "Réessayer",
      "handed_over": "Vous discutez maintenant avec notre service client",
      "reference": "Référence n° ",
      "human_replies": "Une personne de notre équipe vous répondra ici",
      "closed": "Conversation terminée — écrivez pour recommencer",
      "dropped": "La connexion a été coupée avant la fin de la réponse.",
      "too_fast": "Vous envoyez des messages très vite. Attendez {seconds} secondes et réessayez.",
      "a_few": "quelques",
      "too_long": "Ce message est trop long. Raccourcissez-le, s'il vous plaît.",
      "server_error": "Un problème est survenu ({status}). Votre message a été conservé — réessayez.",
      "unreachable": "Impossible de joindre la boutique. Vérifiez votre connexion et réessayez.",
      "went_wrong": "Un problème est survenu."
    },
    "de": {
      "answers": "Antwortet meist in Sekunden",
      "close": "Chat schließen",
      "conversation": "Unterhaltung",
      "message": "Nachricht",
      "send": "Nachricht senden",
      "placeholder": "Fragen Sie zu einer Bestellung, einer Rücksendung…",
      "fineprint": "KI-Assistent · ein Mensch kann jederzeit übernehmen",
      "open_with": "Chat öffnen mit ",
      "greeting": "Hallo! Ich bin der Assistent von {store}. Ich kann eine Bestellung verfolgen, eine Rücksendung oder Erstattung starten oder Sie mit einem Menschen verbinden.",
      "order_n": "Bestellung #",
      "your_order": "Ihre Bestellung",
      "carrier": "Versanddienst",
      "delivered": "Zugestellt",
      "eta": "Voraussichtliche Zustellung",
      "track_with": "Verfolgen bei ",
      "the_carrier": "dem Versanddienst",
      "no_shipment": "Noch kein Versand.",
      "total": "Gesamt",
      "shipment": "Sendung",
      "track": "Verfolgen",
      "label_ready": "Rücksendeetikett bereit",
      "tracking": "Sendungsnummer",
      "download_label": "Etikett herunterladen",
      "emailed_to": "Auch per E-Mail an ",
      "refund_requested": "Erstattung angefragt",
      "refund": "Erstattung",
      "amount": "Betrag",
      "yes": "Ja",
      "no": "Nein",
      "confirm": "Bitte bestätigen",
      "not_included": "Nicht enthalten: ",
      "address": "Adresse",
      "item": "Artikel",
      "support_team": "Support-Team",
      "retry": "Erneut versuchen",
      "handed_over": "Sie chatten jetzt mit unserem Support-Team",
      "reference": "Referenz Nr. ",
      "human_replies": "Eine Person aus unserem Team antwortet Ihnen hier",
      "closed": "Gespräch beendet – schreiben Sie, um neu zu beginnen",
      "dropped": "Die Verbindung brach ab, bevor die Antwort fertig war.",
      "too_fast": "Sie senden sehr schnell Nachrichten. Bitte warten Sie {seconds} Sekunden und versuchen Sie es erneut.",
      "a_few": "einige",
      "too_long": "Diese Nachricht ist zu lang. Bitte kürzen Sie sie.",
      "server_error": "Etwas ist schiefgelaufen ({status}). Ihre Nachricht wurde behalten – bitte versuchen Sie es erneut.",
      "unreachable": "Der Shop ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
      "went_wrong": "Etwas ist schiefgelaufen."
    }
  };
  var STATUS_WORDS = {
    "es": {
      "pre_transit": "Preparando el envío",
      "in_transit": "En camino",
      "out_for_delivery": "En reparto",
      "delivered": "Entregado",
      "return_to_sender": "Devuelto al remitente",
      "failure": "Incidencia",
      "unknown": "Desconocido",
      "pending": "Pendiente",
      "pending_approval": "Pendiente de aprobación",
      "approved": "Aprobado",
      "refunded": "Reembolsado",
      "fulfilled": "Enviado",
      "unfulfilled": "Sin enviar",
      "cancelled": "Cancelado"
    },
    "fr": {
      "pre_transit": "Préparation de l'envoi",
      "in_transit": "En transit",
      "out_for_delivery": "En cours de livraison",
      "delivered": "Livré",
      "return_to_sender": "Retourné à l'expéditeur",
      "failure": "Incident",
      "unknown": "Inconnu",
      "pending": "En attente",
      "pending_approval": "En attente d'approbation",
      "approved": "Approuvé",
      "refunded": "Remboursé",
      "fulfilled": "Expédié",
      "unfulfilled": "Non expédié",
      "cancelled": "Annulé"
    },
    "de": {
      "pre_transit": "Versand wird vorbereitet",
      "in_transit": "Unterwegs",
      "out_for_delivery": "In Zustellung",
      "delivered": "Zugestellt",
      "return_to_sender": "Zurück an Absender",
      "failure": "Problem",
      "unknown": "Unbekannt",
      "pending": "Ausstehend",
      "pending_approval": "Wartet auf Freigabe",
      "approved": "Genehmigt",
      "refunded": "Erstattet",
      "fulfilled": "Versandt",
      "unfulfilled": "Nicht versandt",
      "cancelled": "Storniert"
    }
  };
  var LANG = (function () {
    var wanted = String(data.lang || (navigator.languages && navigator.languages[0]) || navigator.language || "en");
    var short = wanted.toLowerCase().slice(0, 2);
    return STRINGS[short] ? short : "en";
  })();
  function t(key) {
    return (STRINGS[LANG] && STRINGS[LANG][key]) || STRINGS.en[key] || key;
  }
  var ACCENT = data.accent || "#1f6f5c";
  var IDENTITY =
    data.email && data.signature && data.issuedAt
      ? { email: data.email, issued_at: parseInt(data.issuedAt, 10), signature: data.signature }
      : null;
  var MAX_CHARS = parseInt(data.maxChars || "2000", 10) || 2000;
  var GREETING =
    data.greeting || t("greeting").replace("{store}", STORE);
  var STORAGE_KEY = "support-agent:" + SERVER;
  var OPEN_KEY = STORAGE_KEY + ":open";
  var IDLE_TIMEOUT_MS = 60000; // the server sends keep-alives every 15 s
  var BACKOFF_MIN_MS = 1000;
  var BACKOFF_MAX_MS = 30000;

  // ------------------------------------------------------------------ small helpers

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat: "M21 11.5a8.4 8.4 0 0 1-12.3 7.5L3 21l2-5.2A8.5 8.5 0 1 1 21 11.5z",
    close: "M6 6l12 12M18 6L6 18",
    down: "M6 9l6 6 6-6",
    send: "M12 19V5M5 12l7-7 7 7",
    truck: "M2 6h12v10H2zM14 10h4.5L22 13.5V16h-8zM6.5 19.5a2 2 0 1 0 0-4 2 2 0 0 0 0 4zM17.5 19.5a2 2 0 1 0 0-4 2 2 0 0 0 0 4z",
    box: "M21 8l-9-5-9 5v8l9 5 9-5zM3 8l9 5 9-5M12 13v8",
    tag: "M20.6 13.4l-7.2 7.2a2 2 0 0 1-2.8 0L3 13V3h10l7.6 7.6a2 2 0 0 1 0 2.8zM7.5 7.5h.01",
    person: "M4 14v-2a8 8 0 0 1 16 0v2M4 14h3v5H5a1 1 0 0 1-1-1zM20 14h-3v5h2a1 1 0 0 0 1-1z",
    alert: "M12 9v4M12 17h.01M10.3 3.9L2 18a2 2 0 0 0 1.7 3h16.6a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z",
    external: "M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5",
    check: "M5 12l5 5L20 7",
    retry: "M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7",
    help: "M12 21.5a9.5 9.5 0 1 0 0-19 9.5 9.5 0 0 0 0 19zM9.1 9a3 3 0 0 1 5.8 1c0 2-3 3-3 3M12 17h.01",
  };

  function icon(name, className) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon" + (className ? " " + className : ""));
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  /** el("div", {class: "x", "aria-label": "y"}, [children or strings]) — strings become text nodes. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = String(value);
        else if (key === "class") node.className = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function present(value) {
    return value !== null && value !== undefined && value !== "";
  }

  function safeUrl(value) {
    if (!present(value)) return null;
    try {
      var url = new URL(String(value), SERVER);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function link(href, label, className) {
    var url = safeUrl(href);
    if (!url) return null;
    var anchor = el("a", { class: className || "link", href: url, target: "_blank", rel: "noopener noreferrer" }, [
      label,
    ]);
    if (className && className.indexOf("button") >= 0) anchor.appendChild(icon("external", "icon-sm"));
    return anchor;
  }

  /** Text with http(s) URLs turned into links; everything else stays text. */
  function richText(text) {
    var fragment = document.createDocumentFragment();
    var pattern = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
    var last = 0;
    var match;
    text = String(text || "");
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      fragment.appendChild(link(match[0], match[0]) || document.createTextNode(match[0]));
      last = match.index + match[0].length;
    }
    if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function humanize(value) {
    if (!present(value)) return "";
    var known = STATUS_WORDS[LANG] && STATUS_WORDS[LANG][String(value).toLowerCase()];
    if (known) return known;
    var words = String(value).replace(/[_-]+/g, " ").trim();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function money(amount, currency) {
    if (!present(amount)) return "";
    var number = Number(amount);
    if (!isFinite(number)) return String(amount);
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(number);
    } catch (_) {
      return number.toFixed(2) + (currency ? " " + currency : "");
    }
  }

  function parseDate(value) {
    if (!present(value)) return null;
    var text = String(value);
    var dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    // A bare date is a calendar day, not UTC midnight (which is "yesterday" west of Greenwich).
    var date = dateOnly ? new Date(+dateOnly[1], +dateOnly[2] - 1, +dateOnly[3]) : new Date(text);
    return isNaN(date.getTime()) ? null : date;
  }

  function day(value) {
    var date = parseDate(value);
    return date
      ? date.toLocaleDateString(undefined, { weekday: "short", month: "short", day: "numeric" })
      : String(value || "");
  }

  function moment(value) {
    var date = parseDate(value);
    return date
      ? date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" })
      : String(value || "");
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }

  function initials(name) {
    var parts = String(name || "Support").trim().split(/\s+/);
    return ((parts[0] || "S").charAt(0) + (parts.length > 1 ? parts[parts.length - 1].charAt(0) : "")).toUpperCase();
  }

  function storage(kind) {
    try {
      return kind === "session" ? window.sessionStorage : window.localStorage;
    } catch (_) {
      return null; // storage disabled: the widget still works, it just forgets on reload
    }
  }

  function remember(key, value, kind) {
    var store = storage(kind);
    if (!store) return;
    try {
      if (value === null) store.removeItem(key);
      else store.setItem(key, value);
    } catch (_) {
      /* quota or privacy mode */
    }
  }

  function recall(key, kind) {
    var store = storage(kind);
    try {
      return store ? store.getItem(key) : null;
    } catch (_) {
      return null;
    }
  }

  // ------------------------------------------------------------------ styles (inside the shadow root)

  var CSS = [
    ":host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;",
    "--accent:#1f6f5c;--accent-ink:#fff;--ink:#1c2422;--muted:#5d6b67;--line:#e3e8e6;--bg:#f6f8f7;",
    "--agent:#a4610f;--agent-bg:#fff6e8;--danger:#b42318;--danger-bg:#fef3f2;--ok:#067647;--ok-bg:#ecfdf3;",
    "--info:#175cd3;--info-bg:#eff8ff;--radius:16px;",
    "font-family:ui-sans-serif,system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;",
    "font-size:15px;line-height:1.45;color:var(--ink);-webkit-font-smoothing:antialiased}",
    "*,*::before,*::after{box-sizing:border-box}",
    "[hidden]{display:none!important}",
    "button,textarea{font:inherit;color:inherit}",
    ".icon{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;",
    "stroke-linejoin:round;flex:none}",
    ".icon-sm{width:14px;height:14px}",
    ":focus{outline:none}",
    ":focus-visible{outline:3px solid var(--accent);outline:3px solid color-mix(in srgb,var(--accent) 55%,white);",
    "outline-offset:2px}",
    ".sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);",
    "white-space:nowrap;border:0}",

    /* launcher */
    ".launcher{position:relative;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;",
    "background:var(--accent);color:var(--accent-ink);display:grid;place-items:center;",
    "box-shadow:0 10px 28px rgba(16,24,40,.22),0 2px 6px rgba(16,24,40,.12);",
    "transition:transform .18s ease,box-shadow .18s ease}",
    ".launcher:hover{transform:translateY(-2px);box-shadow:0 14px 32px rgba(16,24,40,.26)}",
    ".launcher .icon{width:28px;height:28px}",
    ".badge{position:absolute;top:-2px;right:-2px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;",
    "background:#d92d20;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;",
    "box-shadow:0 0 0 2px #fff}",

    /* panel */
    ".panel{position:absolute;right:0;bottom:76px;width:384px;height:min(640px,calc(100vh - 120px));",
    "display:flex;flex-direction:column;background:#fff;border-radius:var(--radius);overflow:hidden;",
    "box-shadow:0 24px 60px rgba(16,24,40,.22),0 4px 12px rgba(16,24,40,.08);",
    "transform-origin:bottom right;animation:pop .2s ease-out}",
    "@keyframes pop{from{opacity:0;transform:translateY(8px) scale(.98)}to{opacity:1;transform:none}}",
    ".header{display:flex;align-items:center;gap:12px;padding:14px 12px 14px 16px;color:var(--accent-ink);",
    "background:linear-gradient(135deg,var(--accent),color-mix(in srgb,var(--accent) 72%,black))}",
    ".logo{width:40px;height:40px;border-radius:12px;display:grid;place-items:center;font-weight:700;",
    "font-size:16px;background:rgba(255,255,255,.16);border:1px solid rgba(255,255,255,.25);flex:none}",
    ".titles{flex:1;min-width:0}",
    ".title{margin:0;font-size:16px;font-weight:650;line-height:1.25;white-space:nowrap;overflow:hidden;",
    "text-overflow:ellipsis}",
    ".subtitle{margin:2px 0 0;font-size:12.5px;opacity:.88;display:flex;align-items:center;gap:6px}",
    ".dot{width:8px;height:8px;border-radius:50%;background:#6ce9a6;box-shadow:0 0 0 2px rgba(255,255,255,.25)}",
    ".human .dot{background:#fdb022}",
    ".icon-button{width:36px;height:36px;border-radius:10px;border:0;background:transparent;color:inherit;",
    "display:grid;place-items:center;cursor:pointer}",
    ".icon-button:hover{background:rgba(255,255,255,.14)}",

    /* message list */
    ".log{flex:1;overflow-y:auto;padding:16px 14px 8px;background:var(--bg);display:flex;flex-direction:column;",
    "gap:10px;scroll-behavior:smooth;overscroll-behavior:contain}",
    ".row{display:flex;flex-direction:column;align-items:flex-start;max-width:100%}",
    ".row.shopper{align-items:flex-end}",
    ".bubble{max-width:86%;padding:9px 13px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;",
    "background:#fff;border:1px solid var(--line);border-bottom-left-radius:6px}",
    ".shopper .bubble{background:var(--accent);color:var(--accent-ink);border-color:transparent;",
    "border-bottom-left-radius:16px;border-bottom-right-radius:6px}",
    ".shopper .bubble a{color:inherit}",
    ".bubble a,.link{color:var(--accent);font-weight:600;text-decoration:underline;text-underline-offset:2px}",
    ".welcome .bubble{background:#fff}",
    ".row.failed .bubble{opacity:.72}",
    ".meta{font-size:12px;color:var(--muted);margin:3px 6px 0}",
    ".agent-row{flex-direction:row;align-items:flex-end;gap:8px}",
    ".agent-row .stack{display:flex;flex-direction:column;align-items:flex-start;min-width:0;max-width:86%}",
    ".avatar{width:30px;height:30px;border-radius:50%;background:var(--agent);color:#fff;font-size:12px;",
    "font-weight:700;display:grid;place-items:center;flex:none}",
    ".author{font-size:12px;font-weight:650;color:var(--agent);margin:0 0 3px 4px}",
    ".agent .bubble{max-width:100%;background:var(--agent-bg);border-color:#f5d9a8;border-bottom-left-radius:6px}",
    ".draft .bubble::after{content:'';display:inline-block;width:7px;height:15px;margin-left:2px;",
    "vertical-align:-2px;background:var(--muted);animation:blink 1s steps(2) infinite}",
    "@keyframes blink{50%{opacity:0}}",

    /* typing + progress */
    ".pending{flex-direction:row;align-items:center;gap:10px}",
    ".typing{display:inline-flex;gap:4px;padding:12px 14px;background:#fff;border:1px solid var(--line);",
    "border-radius:16px;border-bottom-left-radius:6px}",
    ".typing span{width:7px;height:7px;border-radius:50%;background:#98a2a0;animation:bounce 1.2s infinite}",
    ".typing span:nth-child(2){animation-delay:.15s}.typing span:nth-child(3){animation-delay:.3s}",
    "@keyframes bounce{0%,60%,100%{transform:none;opacity:.55}30%{transform:translateY(-4px);opacity:1}}",
    ".progress{font-size:13px;color:var(--muted);font-style:italic}",

    /* banners and errors */
    ".banner{align-self:stretch;display:flex;gap:10px;align-items:center;padding:10px 12px;border-radius:12px;",
    "background:var(--agent-bg);border:1px solid #f5d9a8;color:#7a4507;font-size:13.5px;font-weight:600}",
    ".banner small{display:block;font-weight:500;opacity:.8}",
    ".error{align-self:stretch;display:flex;gap:10px;align-items:center;padding:10px 12px;border-radius:12px;",
    "background:var(--danger-bg);border:1px solid #fecdca;color:var(--danger);font-size:13.5px}",
    ".error p{margin:0;flex:1}",
    ".retry{display:inline-flex;align-items:center;gap:6px;border:1px solid currentColor;background:#fff;",
    "color:var(--danger);border-radius:999px;padding:5px 12px;font-weight:650;font-size:13px;cursor:pointer}",
    ".retry .icon{width:15px;height:15px}",

    /* cards */
    ".card{width:100%;max-width:100%;margin-top:6px;background:#fff;border:1px solid var(--line);",
    "border-radius:14px;padding:12px 14px;box-shadow:0 1px 2px rgba(16,24,40,.05);font-size:14px}",
    ".row .card{max-width:92%}",
    ".card-head{display:flex;align-items:center;gap:8px;margin-bottom:8px}",
    ".card-head .icon{color:var(--accent)}",
    ".card-title{font-weight:650;flex:1;min-width:0}",
    ".pill{display:inline-block;padding:2px 9px;border-radius:999px;font-size:12px;font-weight:650;",
    "background:#f2f4f7;color:#344054;white-space:nowrap}",
    ".pill.ok{background:var(--ok-bg);color:var(--ok)}",
    ".pill.info{background:var(--info-bg);color:var(--info)}",
    ".pill.bad{background:var(--danger-bg);color:var(--danger)}",
    ".pill.warn{background:var(--agent-bg);color:var(--agent)}",
    ".kv{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0}",
    ".kv dt{color:var(--muted)}.kv dd{margin:0;text-align:right;overflow-wrap:anywhere}",
    ".items{list-style:none;margin:0 0 8px;padding:0}",
    ".items li{display:flex;justify-content:space-between;gap:12px;padding:5px 0;border-bottom:1px dashed var(--line)}",
    ".items li:last-child{border-bottom:0}",
    ".qty{color:var(--muted)}",
    ".total{display:flex;justify-content:space-between;font-weight:650;padding-top:6px;border-top:1px solid var(--line)}",
    ".parcel+.parcel{margin-top:12px;padding-top:12px;border-top:1px solid var(--line)}",
    ".steps{display:grid;grid-template-columns:repeat(4,1fr);gap:4px;margin:4px 0 10px}",
    ".steps span{height:5px;border-radius:3px;background:#e4e7ec}",
    ".steps span.on{background:var(--accent)}",
    ".steps.bad span.on{background:var(--danger)}",
    ".eta{font-size:13px;color:var(--muted)}.eta strong{display:block;font-size:16px;color:var(--ink)}",
    ".event{margin:10px 0 0;padding:8px 10px;border-radius:10px;background:var(--bg);font-size:13px}",
    ".event .when{color:var(--muted);font-size:12px}",
    ".exception{margin:10px 0 0;padding:8px 10px;border-radius:10px;background:var(--danger-bg);color:var(--danger);",
    "font-size:13px;font-weight:600}",
    ".mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}",
    ".card-foot{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:8px;margin-top:10px}",
    ".button-link{display:inline-flex;align-items:center;gap:6px;padding:7px 12px;border-radius:10px;",
    "background:var(--accent);color:var(--accent-ink);font-weight:650;font-size:13.5px;text-decoration:none}",
    ".button-link:hover{filter:brightness(1.08)}",
    ".note{color:var(--muted);font-size:12.5px;margin:8px 0 0}",
    ".summary{margin:0 0 8px;font-weight:600}",
    ".actions{display:flex;gap:8px;margin-top:12px}",
    ".actions button{flex:1;padding:9px 12px;border-radius:10px;font-weight:650;cursor:pointer;",
    "border:1px solid var(--accent)}",
    ".yes{background:var(--accent);color:var(--accent-ink)}",
    ".no{background:#fff;color:var(--accent)}",
    ".actions button:disabled{cursor:default;opacity:.45}",
    ".actions button.chosen:disabled{opacity:1}",
    ".actions button.chosen::before{content:'\\2713  '}",

    /* composer */
    ".composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px 12px;border-top:1px solid var(--line);",
    "background:#fff}",
    ".input{flex:1;resize:none;min-height:42px;max-height:120px;padding:10px 12px;border:1px solid #d0d5dd;",
    "border-radius:12px;background:#fff;line-height:1.4;overflow-y:auto}",
    ".input:focus-visible{outline:none;border-color:var(--accent);",
    "box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 22%,transparent)}",
    ".send{width:42px;height:42px;border-radius:12px;border:0;background:var(--accent);color:var(--accent-ink);",
    "display:grid;place-items:center;cursor:pointer;flex:none}",
    ".send:disabled{opacity:.4;cursor:default}",
    ".fineprint{margin:0;padding:0 12px 10px;background:#fff;font-size:11.5px;color:var(--muted);text-align:center}",

    /* phone: the panel takes the whole screen */
    "@media (max-width:480px){",
    ":host{right:16px;bottom:16px}",
    ".panel{position:fixed;inset:0;width:100%;height:100%;height:100dvh;border-radius:0;animation:none}",
    ":host(.open) .launcher{display:none}",
    ".bubble{max-width:88%}",
    "}",
    "@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important;scroll-behavior:auto!important}}",
  ].join("");

  // ------------------------------------------------------------------ DOM

  var host = el("div", { id: "support-agent-widget" });
  var root = host.attachShadow({ mode: "open" });
  host.style.setProperty("--accent", ACCENT); // an invalid colour is simply ignored by CSS

  function installStyles() {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS); // constructable sheets also work under a strict style-src CSP
      root.adoptedStyleSheets = [sheet];
    } catch (_) {
      root.appendChild(el("style", { text: CSS }));
    }
  }
  installStyles();

  var ids = { panel: "sa-panel", title: "sa-title", input: "sa-input" };
  var launcherLabel = t("open_with") + STORE;
  var badge = el("span", { class: "badge", hidden: true, "aria-hidden": "true" });
  var launcher = el(
    "button",
    {
      class: "launcher",
      type: "button",
      "aria-label": launcherLabel,
      "aria-expanded": "false",
      "aria-controls": ids.panel,
    },
    [icon("chat"), badge]
  );

  var subtitleText = el("span", { text: t("answers") });
  var subtitle = el("p", { class: "subtitle" }, [el("span", { class: "dot", "aria-hidden": "true" }), subtitleText]);
  var closeButton = el("button", { class: "icon-button", type: "button", "aria-label": t("close") }, [
    icon("down"),
  ]);
  var header = el("div", { class: "header" }, [
    el("div", { class: "logo", "aria-hidden": "true", text: initials(STORE) }),
    el("div", { class: "titles" }, [el("h2", { class: "title", id: ids.title, text: STORE }), subtitle]),
    closeButton,
  ]);

  var log = el("div", {
    class: "log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": t("conversation"),
    tabindex: "0",
  });
  var input = el("textarea", {
    class: "input",
    id: ids.input,
    rows: "1",
    maxlength: String(MAX_CHARS),
    placeholder: t("placeholder"),
    "aria-label": t("message"),
    autocomplete: "off",
  });
  var sendButton = el("button", { class: "send", type: "submit", "aria-label": t("send"), disabled: true }, [
    icon("send"),
  ]);
  var composer = el("form", { class: "composer", novalidate: true }, [input, sendButton]);
  var fineprint = el("p", { class: "fineprint", text: t("fineprint") });
  var panel = el(
    "section",
    { class: "panel", id: ids.panel, role: "dialog", "aria-modal": "false", "aria-labelledby": ids.title, hidden: true },
    [header, log, composer, fineprint]
  );
  root.appendChild(panel);
  root.appendChild(launcher);

  // ------------------------------------------------------------------ state

  var state = {
    conversationId: null,
    token: null, // the conversation's bearer token (kept with the id)
    status: "active",
    open: false,
    busy: false,
    unread: 0,
    rendered: new Set(), // server message ids already on screen
    unconfirmedShopper: [], // local shopper rows waiting for their server id {row, text}
    confirms: [], // {card, yes, no, answered}
    draft: null, // {id, row, bubble}
    pending: null, // typing / progress row
    events: null, // AbortController of the open event stream
    backoff: BACKOFF_MIN_MS,
    reconnectTimer: null,
    historyLoaded: false,
  };

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function append(node) {
    if (state.pending && state.pending.parentNode === log) log.insertBefore(node, state.pending);
    else log.appendChild(node);
    scrollToEnd();
    return node;
  }

  // ------------------------------------------------------------------ cards

  var STEP = { pre_transit: 1, in_transit: 2, out_for_delivery: 3, available_for_pickup: 3, delivered: 4 };
  var BAD = { failure: 1, return_to_sender: 1, error: 1, cancelled: 1, exception: 1, lost: 1 };

  function pillClass(status) {
    var value = String(status || "").toLowerCase();
    if (BAD[value] || value === "refunded" || value === "voided") return "pill bad";
    if (value === "delivered" || value === "fulfilled" || value === "paid" || value === "succeeded") return "pill ok";
    if (value === "in_transit" || value === "out_for_delivery" || value === "available_for_pickup") return "pill info";
    if (/^(partially_fulfilled|pending|pending_approval|unfulfilled)$/.test(value)) return "pill warn";
    return "pill";
  }

  function cardHead(iconName, title, status) {
    return el("div", { class: "card-head" }, [
      icon(iconName),
      el("span", { class: "card-title", text: title }),
      present(status) ? el("span", { class: pillClass(status), text: humanize(status) }) : null,
    ]);
  }

  function itemList(items, currency, withPrice) {
    if (!Array.isArray(items) || !items.length) return null;
    return el(
      "ul",
      { class: "items" },
      items.map(function (item) {
        if (typeof item !== "object" || item === null) return el("li", null, [el("span", { text: String(item) })]);
        var quantity = present(item.quantity) ? item.quantity + " × " : "";
        return el("li", null, [
          el("span", null, [el("span", { class: "qty", text: quantity }), String(item.title || t("item"))]),
          withPrice && present(item.unit_price) ? el("span", { text: money(item.unit_price, currency) }) : null,
        ]);
      })
    );
  }

  function orderLabel(card) {
    return present(card.order_number) ? t("order_n") + String(card.order_number).replace(/^#/, "") : t("your_order");
  }

  function trackingCard(card) {
    var parcels = Array.isArray(card.parcels) ? card.parcels : [];
    var node = el("div", { class: "card tracking", "data-card": "tracking" }, [cardHead("truck", orderLabel(card))]);
    parcels.forEach(function (parcel) {
      parcel = parcel || {};
      var status = String(parcel.status || "unknown").toLowerCase();
      var bad = !!BAD[status] || !!parcel.exception;
      var reached = STEP[status] || 0;
      var steps = el("div", { class: "steps" + (bad ? " bad" : ""), "aria-hidden": "true" });
      for (var i = 1; i <= 4; i++) steps.appendChild(el("span", { class: i <= (bad ? 4 : reached) ? "on" : "" }));
      var heading = el("div", { class: "card-head" }, [
        el("span", { class: "card-title", text: String(parcel.carrier || t("carrier")) }),
        el("span", { class: pillClass(status), text: humanize(status) }),
      ]);
      var eta = present(parcel.estimated_delivery)
        ? el("p", { class: "eta" }, [
            status === "delivered" ? t("delivered") : t("eta"),
            el("strong", { text: day(parcel.estimated_delivery) }),
          ])
        : null;
      var last = parcel.last_event || null;
      var event = last
        ? el("div", { class: "event" }, [
            el("div", { text: String(last.message || humanize(status)) }),
            el("div", {
              class: "when",
              text: [last.location, last.at ? moment(last.at) : ""].filter(present).join(" · "),
            }),
          ])
        : null;
      var detail =
        present(parcel.status_detail) && parcel.status_detail !== "unknown" && parcel.status_detail !== status
          ? el("p", { class: "note", text: humanize(parcel.status_detail) })
          : null;
      var exception = present(parcel.exception) ? el("p", { class: "exception", text: String(parcel.exception) }) : null;
      var foot = el("div", { class: "card-foot" }, [
        present(parcel.tracking_number) ? el("span", { class: "mono", text: String(parcel.tracking_number) }) : null,
        link(parcel.tracking_url, t("track_with") + String(parcel.carrier || t("the_carrier")), "button-link"),
      ]);
      node.appendChild(el("div", { class: "parcel" }, [heading, steps, eta, detail, event, exception, foot]));
    });
    if (!parcels.length) node.appendChild(el("p", { class: "note", text: t("no_shipment") }));
    return node;
  }

  function orderCard(card) {
    var shipments = Array.isArray(card.shipments) ? card.shipments : [];
    var node = el("div", { class: "card order", "data-card": "order" }, [
      cardHead("box", orderLabel(card), card.status),
      itemList(card.items, card.currency, true),
      present(card.total)
        ? el("div", { class: "total" }, [el("span", { text: t("total") }), el("span", { text: money(card.total, card.currency) })])
        : null,
    ]);
    shipments.forEach(function (shipment) {
      shipment = shipment || {};
      node.appendChild(
        el("div", { class: "card-foot" }, [
          el("span", null, [
            String(shipment.carrier || t("shipment")) + " ",
            present(shipment.tracking_number) ? el("span", { class: "mono", text: String(shipment.tracking_number) }) : null,
          ]),
          present(shipment.status) ? el("span", { class: pillClass(shipment.status), text: humanize(shipment.status) }) : null,
          link(shipment.tracking_url, t("track"), "link"),
        ])
      );
    });
    return node;
  }

  function labelCard(card) {
    return el("div", { class: "card label", "data-card": "label" }, [
      cardHead("tag", t("label_ready")),
      el("dl", { class: "kv" }, [
        present(card.carrier) ? el("dt", { text: t("carrier") }) : null,
        present(card.carrier) ? el("dd", { text: String(card.carrier) }) : null,
        present(card.tracking_number) ? el("dt", { text: t("tracking") }) : null,
        present(card.tracking_number) ? el("dd", { class: "mono", text: String(card.tracking_number) }) : null,
      ]),
      itemList(card.items, null, false),
      el("div", { class: "card-foot" }, [link(card.label_url, t("download_label"), "button-link")]),
      present(card.emailed_to) ? el("p", { class: "note", text: t("emailed_to") + card.emailed_to }) : null,
    ]);
  }

  function refundCard(card) {
    var status = String(card.status || "");
    var title = status.indexOf("approval") >= 0 || status === "pending" ? t("refund_requested") : t("refund");
    return el("div", { class: "card refund", "data-card": "refund" }, [
      cardHead("box", title + (present(card.order_number) ? " · " + orderLabel(card) : ""), card.status),
      present(card.amount)
        ? el("div", { class: "total" }, [el("span", { text: t("amount") }), el("span", { text: money(card.amount, card.currency) })])
        : null,
    ]);
  }

  function confirmCard(card) {
    var yes = el("button", { class: "yes", type: "button", text: t("yes"), disabled: true });
    var no = el("button", { class: "no", type: "button", text: t("no"), disabled: true });
    var entry = { yes: yes, no: no, answered: false };
    function answer(button, reply) {
      if (entry.answered || state.busy) return;
      button.classList.add("chosen");
      button.setAttribute("aria-pressed", "true");
      closeConfirms();
      input.focus({ preventScroll: true }); // the disabled button would drop keyboard focus
      submit(reply);
    }
    yes.addEventListener("click", function () {
      answer(yes, "yes");
    });
    no.addEventListener("click", function () {
      answer(no, "no");
    });
    state.confirms.push(entry);
    return el("div", { class: "card confirm", "data-card": "confirm", role: "group", "aria-label": t("confirm") }, [
      cardHead("help", t("confirm")),
      present(card.summary) ? el("p", { class: "summary", text: String(card.summary) }) : null,
      itemList(card.items, card.currency, false),
      Array.isArray(card.excluded) && card.excluded.length
        ? el("p", { class: "excluded", text: t("not_included") + card.excluded.map(String).join("; ") })
        : null,
      el("dl", { class: "kv" }, [
        present(card.amount) ? el("dt", { text: t("amount") }) : null,
        present(card.amount) ? el("dd", { text: money(card.amount, card.currency) }) : null,
        present(card.address) ? el("dt", { text: t("address") }) : null,
        present(card.address) ? el("dd", { text: String(card.address) }) : null,
      ]),
      el("div", { class: "actions" }, [yes, no]),
    ]);
  }

  /** Only the newest unanswered confirmation, while the server waits for one, has live buttons. */
  function refreshConfirms() {
    var lastOpen = null;
    state.confirms.forEach(function (entry) {
      if (!entry.answered) lastOpen = entry;
    });
    state.confirms.forEach(function (entry) {
      var live = entry === lastOpen && state.status === "awaiting_confirmation" && !state.busy;
      entry.yes.disabled = !live;
      entry.no.disabled = !live;
    });
  }

  function closeConfirms() {
    state.confirms.forEach(function (entry) {
      entry.answered = true;
    });
    refreshConfirms();
  }

  function banner(ticketId) {
    return append(
      el("div", { class: "banner", role: "note" }, [
        icon("person"),
        el("div", null, [
          t("handed_over"),
          present(ticketId) ? el("small", { text: t("reference") + ticketId }) : null,
        ]),
      ])
    );
  }

  function renderCard(card) {
    if (!card || typeof card !== "object") return null;
    switch (card.type) {
      case "tracking":
        return trackingCard(card);
      case "order":
        return orderCard(card);
      case "label":
        return labelCard(card);
      case "refund":
        return refundCard(card);
      case "confirm":
        return confirmCard(card);
      default:
        return null;
    }
  }

  // ------------------------------------------------------------------ messages

  function bubble(text) {
    return el("div", { class: "bubble" }, [richText(text)]);
  }

  function messageRow(message) {
    var role = message.role === "shopper" || message.role === "agent" ? message.role : "assistant";
    var when = parseDate(message.created_at);
    var row;
    if (role === "agent") {
      var author = String(message.author || t("support_team"));
      row = el("div", { class: "row agent agent-row", "data-role": "agent" }, [
        el("div", { class: "avatar", "aria-hidden": "true", text: initials(author) }),
        el("div", { class: "stack" }, [
          el("div", { class: "author", text: author + " · Support team" }),
          present(message.text) ? bubble(message.text) : null,
        ]),
      ]);
    } else {
      row = el("div", { class: "row " + role, "data-role": role }, [present(message.text) ? bubble(message.text) : null]);
    }
    if (message.id) row.setAttribute("data-message-id", String(message.id));
    if (when) row.setAttribute("title", when.toLocaleString());
    var card = message.card;
    if (card && card.type === "handoff") return { row: row, handoff: card };
    var cardNode = renderCard(card);
    if (cardNode) (role === "agent" ? row.lastChild : row).appendChild(cardNode);
    return { row: row, handoff: null };
  }

  /** Show a server message once (by id). Returns false when it was already there. */
  function showMessage(message, options) {
    if (!message || !message.id || state.rendered.has(message.id)) return false;
    state.rendered.add(message.id);
    if (message.role === "shopper") {
      // Our own optimistic row for the same text takes the server's id instead of a duplicate.
      var index = -1;
      for (var i = 0; i < state.unconfirmedShopper.length; i++) {
        if (state.unconfirmedShopper[i].text === message.text) {
          index = i;
          break;
        }
      }
      if (index >= 0) {
        var local = state.unconfirmedShopper.splice(index, 1)[0];
        local.row.setAttribute("data-message-id", String(message.id));
        return true;
      }
      closeConfirms(); // a newer answer from the shopper settles any open confirmation
    }
    if (state.draft && state.draft.id === message.id) {
      state.draft.row.remove();
      state.draft = null;
    }
    var built = messageRow(message);
    append(built.row);
    if (built.handoff && !(options && options.bannerShown)) banner(built.handoff.ticket_id);
    if (message.card && message.card.type === "confirm") refreshConfirms();
    if (!state.open && message.role !== "shopper" && options && options.live) {
      state.unread += 1;
      updateBadge();
    }
    return true;
  }

  function welcome() {
    if (log.querySelector(".welcome")) return;
    var row = el("div", { class: "row assistant welcome" }, [bubble(GREETING)]);
    log.insertBefore(row, log.firstChild);
  }

  function setStatus(status) {
    if (!status) return;
    state.status = status;
    state.statusVersion = (state.statusVersion || 0) + 1;
    var human = status === "human_handling";
    panel.classList.toggle("human", human);
    subtitleText.textContent = human
      ? t("human_replies")
      : status === "closed"
        ? t("closed")
        : t("answers");
    refreshConfirms();
    syncEventStream();
  }

  function showPending(text) {
    if (!state.pending) {
      state.pending = el("div", { class: "row pending" }, [
        el("div", { class: "typing", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
        el("span", { class: "progress" }),
      ]);
      log.appendChild(state.pending);
    }
    state.pending.firstChild.hidden = !!state.draft;
    if (text !== undefined) state.pending.lastChild.textContent = text;
    scrollToEnd();
  }

  function hidePending() {
    if (state.pending) state.pending.remove();
    state.pending = null;
  }

  function showDelta(messageId, text) {
    if (!messageId || state.rendered.has(messageId)) return;
    if (!state.draft || state.draft.id !== messageId) {
      var body = el("div", { class: "bubble" });
      // Hidden from screen readers while it grows; the finished message replaces it and is read once.
      var row = el("div", { class: "row assistant draft", "aria-hidden": "true" }, [body]);
      state.draft = { id: messageId, row: row, bubble: body };
      append(row);
    }
    state.draft.bubble.appendChild(document.createTextNode(String(text || "")));
    showPending();
    scrollToEnd();
  }

  function showError(text, retry) {
    var button = retry
      ? el("button", { class: "retry", type: "button" }, [icon("retry"), t("retry")])
      : null;
    var row = el("div", { class: "error", role: "alert" }, [icon("alert"), el("p", { text: text }), button]);
    if (button) {
      button.addEventListener("click", function () {
        row.remove();
        retry();
      });
    }
    append(row);
    return row;
  }

  function updateBadge() {
    badge.hidden = state.unread === 0 || state.open;
    badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    launcher.setAttribute(
      "aria-label",
      state.unread && !state.open ? launcherLabel + " (" + state.unread + " new)" : launcherLabel
    );
  }

  // ------------------------------------------------------------------ server calls

  function HttpError(status, body, retryAfter) {
    this.status = status;
    this.body = body || {};
    this.retryAfter = retryAfter;
  }

  async function api(path, options) {
    var response = await fetch(SERVER + path, options);
    if (!response.ok) {
      var body = null;
      try {
        body = await response.json();
      } catch (_) {
        /* not JSON */
      }
      throw new HttpError(response.status, body, parseInt(response.headers.get("Retry-After") || "", 10) || null);
    }
    return response;
  }

  function jsonRequest(body, accept) {
    return {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: accept || "application/json" },
      body: JSON.stringify(body),
    };
  }

  function saveConversation(id, token) {
    state.conversationId = id;
    state.token = id ? token : null;
    remember(
      STORAGE_KEY,
      id ? JSON.stringify({ id: id, token: token, email: IDENTITY ? IDENTITY.email : null }) : null
    );
  }

  /** A conversation an email links to (`?conversation=ID#token=T`: the token in the fragment, which a
   *  browser never sends to any server), taken out of the address bar once read. */
  function linkedConversation() {
    try {
      var id = new URLSearchParams(window.location.search).get("conversation");
      var token = new URLSearchParams(window.location.hash.replace(/^#/, "")).get("token");
      if (!id || !token) return null;
      var url = new URL(window.location.href);
      url.searchParams.delete("conversation");
      url.hash = "";
      window.history.replaceState(window.history.state, "", url.toString());
      return { id: id, token: token };
    } catch (_) {
      return null; // an old browser: the shopper can still answer by text or start a chat
    }
  }

  function storedConversation() {
    try {
      var saved = JSON.parse(recall(STORAGE_KEY) || "null");
      // A different signed-in shopper on this browser starts their own conversation; an entry
      // without a token (an older widget's) cannot open its conversation any more.
      if (saved && saved.id && saved.token && saved.email === (IDENTITY ? IDENTITY.email : null)) {
        return { id: String(saved.id), token: String(saved.token) };
      }
    } catch (_) {
      /* corrupt entry */
    }
    return null;
  }

  /** Request options for a call of the current conversation: its token in the Authorization header. */
  function authorized(options) {
    options = options || {};
    options.headers = options.headers || {};
    if (state.token) options.headers.Authorization = "Bearer " + state.token;
    return options;
  }

  async function ensureConversation() {
    if (state.conversationId) return state.conversationId;
    var response = await api("/api/conversations", jsonRequest(IDENTITY || {}));
    var body = await response.json();
    saveConversation(body.id, body.token);
    return body.id;
  }

  /** Reads an SSE response body, calling onEvent(type, data) per event; resolves at the end. */
  async function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var watchdog = null;
    function arm() {
      clearTimeout(watchdog);
      watchdog = setTimeout(function () {
        reader.cancel().catch(function () {});
      }, IDLE_TIMEOUT_MS);
    }
    function dispatch(block) {
      var type = "message";
      var lines = [];
      block.split("\n").forEach(function (line) {
        if (!line || line.charAt(0) === ":") return; // comment = keep-alive
        var colon = line.indexOf(":");
        var field = colon < 0 ? line : line.slice(0, colon);
        var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") type = value;
        else if (field === "data") lines.push(value);
      });
      if (!lines.length) return;
      var parsed;
      try {
        parsed = JSON.parse(lines.join("\n"));
      } catch (_) {
        return;
      }
      onEvent(type, parsed);
    }
    arm();
    try {
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) break;
        arm();
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
        var index;
        while ((index = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, index));
          buffer = buffer.slice(index + 2);
        }
      }
      buffer += decoder.decode();
      if (buffer.trim()) dispatch(buffer);
    } finally {
      clearTimeout(watchdog);
    }
  }

  function setBusy(busy) {
    state.busy = busy;
    sendButton.disabled = busy || !input.value.trim();
    refreshConfirms();
  }

  /** One shopper turn. `turn` = {text, clientMessageId, row}; a retry passes the same turn again. */
  async function runTurn(turn, allowRestart) {
    setBusy(true);
    turn.row.classList.remove("failed");
    showPending("");
    var outcome = { done: null, error: null, retryable: true, bannerShown: false };
    try {
      var id = await ensureConversation();
      var response = await api(
        "/api/conversations/" + encodeURIComponent(id) + "/messages",
        authorized(jsonRequest({ text: turn.text, client_message_id: turn.clientMessageId }, "text/event-stream"))
      );
      syncEventStream();
      await readEvents(response, function (type, payload) {
        handleTurnEvent(type, payload, outcome);
      });
    } catch (error) {
      if (error instanceof HttpError && (error.status === 404 || error.status === 401) && allowRestart) {
        // The conversation is gone (e.g. the demo store was reset): start a new one, once.
        saveConversation(null);
        disconnectEvents();
        hidePending();
        return runTurn(turn, false);
      }
      outcome.error = describe(error);
    } finally {
      hidePending();
      if (state.draft) {
        state.draft.row.remove();
        state.draft = null;
      }
      setBusy(false);
    }
    if (!outcome.done && !outcome.error) outcome.error = t("dropped");
    if (outcome.error) {
      turn.row.classList.add("failed");
      showError(
        outcome.error,
        outcome.retryable
          ? function () {
              runTurn(turn, true);
            }
          : null
      );
    } else if (state.open && focusIsOurs()) {
      input.focus({ preventScroll: true }); // back to typing, unless the shopper went elsewhere
    }
  }

  /** Focus is in the widget, or nowhere (a disabled button drops it): safe to move it to the input. */
  function focusIsOurs() {
    var active = document.activeElement;
    return !active || active === host || active === document.body;
  }

  function describe(error) {
    if (error instanceof HttpError) {
      if (error.status === 429) {
        return t("too_fast").replace("{seconds}", String(error.retryAfter || t("a_few")));
      }
      if (error.body && error.body.error === "message_too_long") return t("too_long");
      return t("server_error").replace("{status}", String(error.status));
    }
    return t("unreachable");
  }

  function handleTurnEvent(type, payload, outcome) {
    switch (type) {
      case "progress":
        showPending(String(payload.text || ""));
        break;
      case "delta":
        showDelta(payload.message_id, payload.text);
        break;
      case "message":
        if (state.draft && payload.role === "assistant") {
          // The complete message supersedes whatever was streamed, whatever id the pieces carried.
          state.draft.row.remove();
          state.draft = null;
        }
        showMessage(payload, { live: true, bannerShown: outcome.bannerShown });
        if (payload.card && payload.card.type === "handoff") outcome.bannerShown = true;
        showPending();
        break;
      case "status":
        setStatus(payload.status);
        break;
      case "handoff":
        // Announced once, when a person takes over (not again on each turn while they handle it).
        if (!outcome.bannerShown && state.status !== "human_handling") banner(payload.ticket_id);
        outcome.bannerShown = true;
        break;
      case "error":
        outcome.error = String(payload.error || t("went_wrong"));
        outcome.retryable = payload.retryable !== false;
        break;
      case "done":
        outcome.done = payload;
        (payload.messages || []).forEach(function (message) {
          showMessage(message, { live: true, bannerShown: outcome.bannerShown });
        });
        setStatus(payload.status);
        break;
      default:
        break;
    }
  }

  function submit(text) {
    text = String(text || "").trim();
    if (!text || state.busy) return;
    closeConfirms();
    var row = el("div", { class: "row shopper", "data-role": "shopper" }, [bubble(text)]);
    append(row);
    state.unconfirmedShopper.push({ row: row, text: text });
    runTurn({ text: text, clientMessageId: newId(), row: row }, true);
  }

  // ------------------------------------------------------------------ history and pushes

  async function loadHistory() {
    var id = state.conversationId;
    if (!id) return;
    // A turn may end while this request is in flight; its status is newer than the history's.
    var version = state.statusVersion || 0;
    var turning = state.busy;
    try {
      var response = await api(
        "/api/conversations/" + encodeURIComponent(id),
        authorized({ headers: { Accept: "application/json" } })
      );
      var view = await response.json();
      if (id !== state.conversationId) return;
      (view.messages || []).forEach(function (message) {
        showMessage(message, {});
      });
      state.historyLoaded = true;
      if (!turning && !state.busy && (state.statusVersion || 0) === version) setStatus(view.status);
    } catch (error) {
      if (error instanceof HttpError && (error.status === 404 || error.status === 401)) {
        saveConversation(null); // forgotten by the server: the next message starts afresh
        disconnectEvents();
      }
    }
  }

  function wantEvents() {
    return !!state.conversationId && (state.open || state.status === "human_handling");
  }

  function syncEventStream() {
    if (wantEvents()) connectEvents();
    else disconnectEvents();
  }

  /**
   * The push stream (human replies, status changes), read with fetch so the token travels in a
   * header. Reconnects with jittered exponential backoff whenever it ends or fails, and reloads the
   * history on every (re)connection so nothing said while disconnected is missed.
   */
  function connectEvents() {
    if (state.events || state.reconnectTimer || typeof AbortController === "undefined") return;
    var controller = new AbortController();
    var id = state.conversationId;
    state.events = controller;
    (async function () {
      try {
        var response = await api(
          "/api/conversations/" + encodeURIComponent(id) + "/events",
          authorized({ headers: { Accept: "text/event-stream" }, cache: "no-store", signal: controller.signal })
        );
        if (state.events !== controller) return;
        state.backoff = BACKOFF_MIN_MS;
        loadHistory(); // whatever happened while we were not listening
        await readEvents(response, function (type, payload) {
          handlePush(type, payload);
        });
      } catch (error) {
        if (state.events !== controller) return; // closed on purpose
        if (error instanceof HttpError && (error.status === 404 || error.status === 401)) {
          state.events = null;
          if (id === state.conversationId) saveConversation(null); // gone: the next message starts afresh
          return;
        }
      }
      if (state.events !== controller) return;
      state.events = null;
      if (!wantEvents()) return;
      var delay = state.backoff * (0.75 + Math.random() * 0.5);
      state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX_MS);
      state.reconnectTimer = setTimeout(function () {
        state.reconnectTimer = null;
        syncEventStream();
      }, delay);
    })();
  }

  function handlePush(type, payload) {
    if (!payload) return;
    if (type === "message") showMessage(payload, { live: true });
    else if (type === "status") setStatus(payload.status);
    else if (type === "handoff" && !state.busy && state.status !== "human_handling") banner(payload.ticket_id);
  }

  function disconnectEvents() {
    var controller = state.events;
    state.events = null;
    if (controller) controller.abort();
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
  }

  // ------------------------------------------------------------------ open / close, keyboard

  function setOpen(open, options) {
    state.open = open;
    panel.hidden = !open;
    host.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcher.replaceChild(icon(open ? "close" : "chat"), launcher.firstChild);
    remember(OPEN_KEY, open ? "1" : null, "session");
    if (open) {
      state.unread = 0;
      welcome();
      if (state.conversationId && !state.historyLoaded) loadHistory();
      scrollToEnd();
      if (!options || options.focus !== false) input.focus();
    } else if (!options || options.focus !== false) {
      launcher.focus();
    }
    updateBadge();
    syncEventStream();
  }

  launcher.addEventListener("click", function () {
    setOpen(!state.open);
  });
  closeButton.addEventListener("click", function () {
    setOpen(false);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false);
    }
  });
  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim() || state.busy) return;
    input.value = "";
    autoGrow();
    sendButton.disabled = true;
    submit(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit"));
    }
  });
  function autoGrow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
  }
  input.addEventListener("input", function () {
    sendButton.disabled = state.busy || !input.value.trim();
    autoGrow();
  });

  // A small page API, e.g. for "try asking" buttons: SupportAgent.ask("Where is order #1001?").
  window.SupportAgent = {
    open: function () {
      if (!state.open) setOpen(true);
    },
    close: function () {
      if (state.open) setOpen(false);
    },
    ask: function (text) {
      if (!state.open) setOpen(true);
      input.value = String(text || "").slice(0, MAX_CHARS);
      sendButton.disabled = state.busy || !input.value.trim();
      autoGrow();
      input.focus();
    },
  };

  // ------------------------------------------------------------------ start

  function start() {
    document.body.appendChild(host);
    var linked = linkedConversation();
    var saved = linked || storedConversation();
    if (saved) saveConversation(saved.id, saved.token);
    if (state.conversationId) loadHistory();
    if (linked || recall(OPEN_KEY, "session") === "1") setOpen(true, { focus: false });
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
