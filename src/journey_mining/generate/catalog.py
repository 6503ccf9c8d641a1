"""The fixed world the sample lives in: shop pages, products, topics, names and agents.

Kept apart from the simulation so the behaviour code reads as behaviour, and so a
reader can see at a glance every page path, topic and queue name the sample can contain.
"""

from __future__ import annotations

from dataclasses import dataclass

SHOP_URL = "https://shop.example.com"
"""Every GA4 ``page_location`` and Intercom ``source.url`` starts with this."""


@dataclass(frozen=True)
class Product:
    """One catalog item as GA4 ``items`` describe it."""

    item_id: str
    item_name: str
    item_category: str
    price: float

    @property
    def path(self) -> str:
        """Product page path, e.g. ``/p/sku-1003``."""
        return f"/p/{self.item_id.lower()}"


_CATEGORY_ITEMS: dict[str, tuple[tuple[str, float], ...]] = {
    "Shoes": (
        ("Trail Runner", 89.0),
        ("City Sneaker", 64.0),
        ("Leather Boot", 139.0),
        ("Canvas Slip-On", 39.0),
        ("Rain Boot", 55.0),
    ),
    "Jackets": (
        ("Down Parka", 189.0),
        ("Rain Shell", 99.0),
        ("Fleece Zip", 49.0),
        ("Denim Jacket", 79.0),
    ),
    "Bags": (
        ("Day Pack", 59.0),
        ("Weekender", 119.0),
        ("Tote", 29.0),
        ("Laptop Sleeve", 35.0),
    ),
    "Home": (
        ("Wool Blanket", 75.0),
        ("Ceramic Mug Set", 32.0),
        ("Linen Sheets", 129.0),
        ("Desk Lamp", 45.0),
    ),
    "Accessories": (
        ("Beanie", 19.0),
        ("Leather Belt", 42.0),
        ("Sunglasses", 69.0),
        ("Wool Socks 3-pack", 24.0),
    ),
}


def _build_products() -> tuple[Product, ...]:
    products: list[Product] = []
    for category, items in _CATEGORY_ITEMS.items():
        for name, price in items:
            products.append(Product(f"SKU-{1001 + len(products)}", name, category, price))
    return tuple(products)


PRODUCTS: tuple[Product, ...] = _build_products()
CATEGORIES: tuple[str, ...] = tuple(_CATEGORY_ITEMS)


def category_path(category: str) -> str:
    """Category page path, e.g. ``/c/shoes``."""
    return f"/c/{category.lower()}"


# Pages that are not products or categories: path -> page title.
HOME = "/"
CART = "/cart"
CHECKOUT = "/checkout"
CONFIRMATION = "/checkout/confirmation"
ORDERS = "/account/orders"
HELP_DELIVERY = "/help/delivery-status"
HELP_RETURNS = "/help/returns"
HELP_PAYMENT = "/help/payment-methods"
HELP_CONTACT = "/help/contact-us"
HELP_PAGES: tuple[str, ...] = (HELP_DELIVERY, HELP_RETURNS, HELP_PAYMENT, HELP_CONTACT)

PAGE_TITLES: dict[str, str] = {
    HOME: "Example Shop | Home",
    CART: "Your cart | Example Shop",
    CHECKOUT: "Checkout | Example Shop",
    CONFIRMATION: "Order confirmed | Example Shop",
    ORDERS: "My orders | Example Shop",
    HELP_DELIVERY: "Where is my order? | Help",
    HELP_RETURNS: "Returns & refunds | Help",
    HELP_PAYMENT: "Payment methods | Help",
    HELP_CONTACT: "Contact us | Help",
}


def page_title(path: str) -> str:
    """The ``page_title`` GA4 would record for a path."""
    if path in PAGE_TITLES:
        return PAGE_TITLES[path]
    if path.startswith("/p/"):
        product = next(p for p in PRODUCTS if p.path == path)
        return f"{product.item_name} | Example Shop"
    return f"{path.removeprefix('/c/').title()} | Example Shop"


# Contact topics. `place_order` is the IVR option for ordering by phone.
DELIVERY = "delivery"
RETURNS = "returns"
REFUND_STATUS = "refund_status"
PAYMENT = "payment"
BILLING = "billing"
PRODUCT_QUESTION = "product_question"
PLACE_ORDER = "place_order"
TOPICS: tuple[str, ...] = (
    DELIVERY,
    RETURNS,
    REFUND_STATUS,
    PAYMENT,
    BILLING,
    PRODUCT_QUESTION,
    PLACE_ORDER,
)

SELF_SERVICE_PAGE: dict[str, str] = {
    DELIVERY: HELP_DELIVERY,
    RETURNS: HELP_RETURNS,
    REFUND_STATUS: HELP_RETURNS,
    PAYMENT: HELP_PAYMENT,
    BILLING: HELP_PAYMENT,
}
"""The help page a customer with this problem reads first (product questions: the product)."""

HELP_PAGE_TOPICS: dict[str, tuple[tuple[str, float], ...]] = {
    HELP_DELIVERY: ((DELIVERY, 1.0),),
    HELP_RETURNS: ((RETURNS, 0.6), (REFUND_STATUS, 0.4)),
    HELP_PAYMENT: ((PAYMENT, 0.6), (BILLING, 0.4)),
    HELP_CONTACT: (
        (DELIVERY, 0.3),
        (RETURNS, 0.2),
        (BILLING, 0.2),
        (PRODUCT_QUESTION, 0.3),
    ),
}
"""What a customer who reached out from a help page while browsing asks about."""

CHAT_OPENERS: dict[str, str] = {
    DELIVERY: "Hi, my order hasn't arrived yet. Where is it?",
    RETURNS: "How do I return an item?",
    REFUND_STATUS: "I sent my return back, when do I get my refund?",
    PAYMENT: "My card keeps getting declined at checkout",
    BILLING: "I was charged twice for one order",
    PRODUCT_QUESTION: "Does this come in other sizes?",
    PLACE_ORDER: "I'd like to place an order",
}

CONNECT_QUEUES: dict[str, str] = {
    DELIVERY: "CustomerService",
    RETURNS: "Returns",
    REFUND_STATUS: "Returns",
    PAYMENT: "Billing",
    BILLING: "Billing",
    PRODUCT_QUESTION: "Sales",
    PLACE_ORDER: "Sales",
}

CONNECT_AGENTS: tuple[str, ...] = (
    "amara.okafor",
    "ben.hughes",
    "carla.mendes",
    "dev.patel",
    "elena.rossi",
    "farid.haddad",
    "grace.kim",
    "hugo.lefevre",
    "ines.garcia",
    "jonas.berg",
)

INTERCOM_ADMIN_IDS: tuple[int, ...] = (4810021, 4810022, 4810035, 4810047, 4810058, 4810063)
INTERCOM_TAG_IDS: dict[str, str] = {topic: str(9170001 + i) for i, topic in enumerate(TOPICS)}

SYSTEM_NUMBER = "+18005550100"
"""The shop's toll-free line: ``SystemEndpoint.Address`` of every inbound call."""

SWITCHBOARD_NUMBER = "+15550000000"
"""An office switchboard many different customers call from: a phone-number super-node."""

TEST_EMAIL = "test@example.com"
"""Typed into the chat by several different people: an email super-node."""

FIRST_NAMES: tuple[str, ...] = (
    "Jane", "John", "Maria", "Ahmed", "Li", "Sofia", "Noah", "Olivia", "Liam", "Emma",
    "Lucas", "Mia", "Ethan", "Ava", "Mateo", "Chloe", "Kenji", "Zara", "Omar", "Ines",
    "Pavel", "Hana", "Diego", "Nora", "Samir", "Leah", "Tom", "Grace", "Ravi", "Anna",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Doe", "Smith", "Garcia", "Khan", "Chen", "Rossi", "Miller", "Brown", "Nguyen", "Silva",
    "Novak", "Okafor", "Tanaka", "Haddad", "Larsen", "Cohen", "Patel", "Moreau", "Kowalski",
    "Murphy", "Schmidt", "Ivanova", "Lopez", "Wilson", "Ali", "Berg", "Costa", "Jensen",
)  # fmt: skip
EMAIL_DOMAINS: tuple[str, ...] = (
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
    "post.example.net",
)
