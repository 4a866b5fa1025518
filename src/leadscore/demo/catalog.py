"""Vocabularies of the simulated market: the vendor and its products, countries, industries,
names, job titles, user agents. Plain data; the generators draw from it.
"""

from __future__ import annotations

from dataclasses import dataclass

VENDOR = "Tessellate"
SITE = "https://www.tessellate.io"
MAIL_DOMAIN = "mail.tessellate.io"
USER_DOMAIN = "tessellate.io"


@dataclass(frozen=True)
class ProductLine:
    code: int  # 1..3; 0 means "no product line"
    name: str  # value of Product_Line__c
    slug: str
    base_amount: float  # typical first-year deal in USD
    departments: tuple[int, ...]  # departments that buy it (see DEPARTMENTS)
    competitors: tuple[str, ...]
    topics: tuple[str, ...]  # intent topics that signal interest


# fmt: off
PRODUCT_LINES = (
    ProductLine(
        1, "Prism Analytics", "prism-analytics", 42000, (0, 3, 6, 1),
        ("Chartwell BI", "Lumen Insights", "Graphiq Cloud"),
        ("business intelligence", "data visualization", "self-service analytics", "dashboard software"),
    ),
    ProductLine(
        2, "Relay Integration", "relay-integration", 31000, (2, 4, 3), ("PipeForge", "LinkMesh", "Conduit iPaaS"),
        ("data integration", "ETL tools", "iPaaS", "API management"),
    ),
    ProductLine(
        3, "Bastion Data Security", "bastion-security", 58000, (5, 2),
        ("VaultGuard", "ShieldStack DLP", "Cipherline"),
        ("data loss prevention", "data security posture management", "encryption", "GDPR compliance"),
    ),
)
# fmt: on
PRODUCT_LINE_WEIGHTS = (0.45, 0.30, 0.25)
# fmt: off
GENERIC_TOPICS = (
    "cloud migration", "CRM software", "remote work", "cybersecurity", "marketing automation", "ERP software",
    "customer experience", "HR software",
)
# fmt: on

# --- countries -------------------------------------------------------------------------------
# code, canonical name, weight, served by the sales team, sales region, title language,
# name culture, standard UTC offset (hours), daylight-saving rule, free-text variants, cities,
# phone country code.


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    weight: float
    served: bool
    region: str
    lang: str
    culture: str
    utc_offset: int
    dst: str  # "eu", "us" or ""
    variants: tuple[str, ...]
    cities: tuple[tuple[str, str, str], ...]  # (city, state, postal code)
    phone_cc: str


# fmt: off
COUNTRIES = (
    Country(
        "US", "United States", 40, True, "NA", "en", "en", -5, "us",
        (
            "US", "USA", "United States", "United States of America", "U.S.", "Etats-Unis", "États-Unis", "usa",
            "America",
        ),
        (
            ("New York", "NY", "10001"), ("San Francisco", "CA", "94105"), ("Chicago", "IL", "60601"),
            ("Austin", "TX", "78701"), ("Boston", "MA", "02110"), ("Atlanta", "GA", "30303"),
            ("Seattle", "WA", "98101"), ("Denver", "CO", "80202"),
        ),
        "1",
    ),
    Country(
        "CA", "Canada", 5, True, "NA", "en", "en", -5, "us", ("CA", "Canada", "CAN", "canada"),
        (("Toronto", "ON", "M5H 2N2"), ("Vancouver", "BC", "V6B 1A1"), ("Montreal", "QC", "H3B 1A7")), "1",
    ),
    Country(
        "GB", "United Kingdom", 10, True, "EMEA", "en", "en", 0, "eu",
        ("UK", "United Kingdom", "Great Britain", "GB", "England", "U.K.", "Royaume-Uni"),
        (
            ("London", "", "EC2A 4NE"), ("Manchester", "", "M1 1AE"), ("Edinburgh", "", "EH1 1YZ"),
            ("Bristol", "", "BS1 4DJ"),
        ),
        "44",
    ),
    Country(
        "IE", "Ireland", 1.5, True, "EMEA", "en", "en", 0, "eu", ("Ireland", "IE", "Eire"),
        (("Dublin", "", "D02 X285"), ("Cork", "", "T12 X70A")), "353",
    ),
    Country(
        "FR", "France", 8, True, "EMEA", "fr", "fr", 1, "eu", ("France", "FR", "france", "FRANCE", "Fr"),
        (
            ("Paris", "", "75008"), ("Lyon", "", "69002"), ("Nantes", "", "44000"), ("Toulouse", "", "31000"),
            ("Lille", "", "59000"),
        ),
        "33",
    ),
    Country(
        "DE", "Germany", 8, True, "EMEA", "de", "de", 1, "eu",
        ("Germany", "Deutschland", "DE", "Allemagne", "GER", "germany"),
        (
            ("Berlin", "", "10117"), ("Munich", "", "80331"), ("Hamburg", "", "20095"), ("Frankfurt", "", "60311"),
            ("Cologne", "", "50667"),
        ),
        "49",
    ),
    Country(
        "NL", "Netherlands", 3, True, "EMEA", "en", "nl", 1, "eu",
        ("Netherlands", "The Netherlands", "Holland", "NL", "Nederland", "Pays-Bas"),
        (("Amsterdam", "", "1012 AB"), ("Rotterdam", "", "3011 AD"), ("Utrecht", "", "3511 AX")), "31",
    ),
    Country(
        "BE", "Belgium", 1.5, True, "EMEA", "fr", "fr", 1, "eu", ("Belgium", "Belgique", "BE", "België"),
        (("Brussels", "", "1000"), ("Antwerp", "", "2000")), "32",
    ),
    Country(
        "ES", "Spain", 3, True, "EMEA", "es", "es", 1, "eu", ("Spain", "España", "ES", "Espagne", "spain"),
        (("Madrid", "", "28013"), ("Barcelona", "", "08002"), ("Valencia", "", "46002")), "34",
    ),
    Country(
        "IT", "Italy", 2, True, "EMEA", "en", "it", 1, "eu", ("Italy", "Italia", "IT"),
        (("Milan", "", "20121"), ("Rome", "", "00184")), "39",
    ),
    Country(
        "SE", "Sweden", 1.5, True, "EMEA", "en", "nordic", 1, "eu", ("Sweden", "Sverige", "SE"),
        (("Stockholm", "", "111 52"), ("Gothenburg", "", "411 03")), "46",
    ),
    Country(
        "CH", "Switzerland", 1.5, True, "EMEA", "de", "de", 1, "eu", ("Switzerland", "Schweiz", "Suisse", "CH"),
        (("Zurich", "", "8001"), ("Geneva", "", "1201")), "41",
    ),
    Country(
        "AT", "Austria", 1, True, "EMEA", "de", "de", 1, "eu", ("Austria", "Österreich", "AT"),
        (("Vienna", "", "1010"),), "43",
    ),
    Country(
        "AU", "Australia", 3, False, "APAC", "en", "en", 10, "", ("Australia", "AU", "AUS"),
        (("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000")), "61",
    ),
    Country(
        "IN", "India", 5, False, "APAC", "en", "in", 5, "", ("India", "IN", "india"),
        (("Bengaluru", "KA", "560001"), ("Mumbai", "MH", "400001"), ("Pune", "MH", "411001")), "91",
    ),
    Country(
        "BR", "Brazil", 2.5, False, "LATAM", "en", "br", -3, "", ("Brazil", "Brasil", "BR"),
        (("São Paulo", "SP", "01310-100"), ("Rio de Janeiro", "RJ", "20040-002")), "55",
    ),
    Country(
        "MX", "Mexico", 1.5, False, "LATAM", "es", "es", -6, "", ("Mexico", "México", "MX"),
        (("Mexico City", "CDMX", "06600"), ("Monterrey", "NL", "64000")), "52",
    ),
    Country(
        "JP", "Japan", 1, False, "APAC", "en", "jp", 9, "", ("Japan", "JP"),
        (("Tokyo", "", "100-0005"), ("Osaka", "", "530-0001")), "81",
    ),
    Country(
        "SG", "Singapore", 1, False, "APAC", "en", "en", 8, "", ("Singapore", "SG"), (("Singapore", "", "018989"),),
        "65",
    ),
    Country(
        "NG", "Nigeria", 0.8, False, "EMEA", "en", "en", 1, "", ("Nigeria", "NG"), (("Lagos", "LA", "100001"),),
        "234",
    ),
)
# fmt: on

# --- industries ------------------------------------------------------------------------------
# Salesforce Industry picklist value, weight, fit for the vendor (ideal customer profile),
# company-name suffixes.
# fmt: off
INDUSTRIES = (
    ("Banking", 5, 1.0, ("Bank", "Bancorp", "Financial")),
    ("Finance", 6, 0.95, ("Capital", "Partners", "Financial Group")),
    ("Insurance", 5, 0.95, ("Insurance", "Mutual", "Assurance")),
    ("Healthcare", 8, 0.85, ("Health", "Medical", "Care")),
    ("Technology", 14, 0.9, ("Software", "Technologies", "Labs", "Systems")),
    ("Telecommunications", 4, 0.85, ("Telecom", "Networks", "Communications")),
    ("Retail", 8, 0.8, ("Retail", "Stores", "Brands", "Market")),
    ("Manufacturing", 9, 0.7, ("Manufacturing", "Industries", "Components")),
    ("Energy", 4, 0.7, ("Energy", "Power", "Utilities")),
    ("Biotechnology", 3, 0.75, ("Bio", "Therapeutics", "Biosciences")),
    ("Transportation", 4, 0.6, ("Logistics", "Freight", "Transport")),
    ("Media", 4, 0.55, ("Media", "Studios", "Publishing")),
    ("Consulting", 6, 0.35, ("Consulting", "Advisory", "Partners")),
    ("Government", 3, 0.4, ("Agency", "Authority", "Council")),
    ("Education", 4, 0.25, ("University", "College", "Academy")),
    ("Hospitality", 3, 0.35, ("Hotels", "Hospitality", "Resorts")),
    ("Not For Profit", 2, 0.2, ("Foundation", "Trust", "Alliance")),
    ("Construction", 3, 0.35, ("Construction", "Builders", "Engineering")),
    ("Food & Beverage", 3, 0.5, ("Foods", "Beverages", "Kitchens")),
)
# fmt: on
EDUCATION = "Education"
CONSULTING = "Consulting"

# fmt: off
LEGAL_SUFFIX = {
    "US": ("Inc.", "LLC", "Corp.", ""), "CA": ("Inc.", "Ltd.", ""), "GB": ("Ltd", "plc", ""), "IE": ("Ltd", ""),
    "FR": ("SAS", "SA", ""), "DE": ("GmbH", "AG", ""), "NL": ("B.V.", ""), "BE": ("SA", "NV", ""),
    "ES": ("S.L.", "S.A.", ""), "IT": ("S.p.A.", "S.r.l.", ""), "SE": ("AB", ""), "CH": ("AG", "SA", ""),
    "AT": ("GmbH", ""), "AU": ("Pty Ltd", ""), "IN": ("Pvt Ltd", "Ltd", ""), "BR": ("Ltda", "S.A.", ""),
    "MX": ("S.A. de C.V.", ""), "JP": ("K.K.", ""), "SG": ("Pte Ltd", ""), "NG": ("Ltd", ""),
}
# fmt: on
# fmt: off
DOMAIN_TLD = {
    "US": "com", "CA": "ca", "GB": "co.uk", "IE": "ie", "FR": "fr", "DE": "de", "NL": "nl", "BE": "be", "ES": "es",
    "IT": "it", "SE": "se", "CH": "ch", "AT": "at", "AU": "com.au", "IN": "in", "BR": "com.br", "MX": "mx",
    "JP": "jp", "SG": "sg", "NG": "ng",
}
# fmt: on

# fmt: off
NAME_PREFIX = (
    "Blue", "North", "Apex", "Summit", "Silver", "Red", "Granite", "Harbor", "Pioneer", "Vertex", "Bright", "Cedar",
    "Iron", "Lake", "Maple", "Orion", "Pacific", "Quantum", "River", "Stone", "Alder", "Beacon", "Cobalt", "Delta",
    "Ember", "Falcon", "Golden", "Helix", "Indigo", "Juniper", "Keystone", "Lumen", "Meridian", "Nova", "Oak",
    "Polar", "Quarry", "Radiant", "Sierra", "Tidal", "Union", "Vantage", "Willow", "Zenith", "Atlas", "Boreal",
    "Crescent", "Driftwood", "Evergreen", "Fjord", "Glacier", "Highland", "Ivory", "Jade", "Kestrel", "Lantern",
    "Mosaic", "Nimbus", "Onyx", "Prairie", "Redwood", "Saffron", "Timber", "Upland", "Velvet", "Westwind",
    "Yellowstone", "Amber", "Birch", "Canyon", "Dune", "Echo", "Frontier", "Grove", "Horizon", "Inlet", "Jasper",
    "Larch",
)
# fmt: on
# fmt: off
NAME_CORE = (
    "field", "gate", "point", "bridge", "line", "wave", "works", "stack", "logic", "path", "stone", "crest", "view",
    "ridge", "port", "haven", "mark", "way", "light", "forge", "brook", "side", "wood", "vale", "spring", "peak",
    "shore", "land", "core", "sphere", "hill", "ford", "well", "moor", "dale", "star", "rock", "wind", "fall",
    "cliff",
)
# fmt: on

# fmt: off
COMPETITOR_COMPANIES = (
    ("Chartwell Software", "chartwell-software.com", 1), ("Lumen Insights Inc.", "lumeninsights.com", 1),
    ("PipeForge Inc.", "pipeforge.io", 2), ("LinkMesh Ltd", "linkmesh.co.uk", 2),
    ("VaultGuard Security", "vaultguard.com", 3), ("Cipherline SAS", "cipherline.fr", 3),
)
# fmt: on

# fmt: off
FREEMAIL = (
    ("gmail.com", 40), ("yahoo.com", 9), ("hotmail.com", 9), ("outlook.com", 9), ("mac.com", 3), ("icloud.com", 5),
    ("aol.com", 2), ("gmx.de", 3), ("web.de", 2), ("orange.fr", 3), ("free.fr", 2), ("laposte.net", 1),
    ("yahoo.fr", 2), ("btinternet.com", 2), ("protonmail.com", 3),
)
# fmt: on
JUNK_DOMAINS = ("test.com", "asdf.com", "mailinator.com", "example.com", "aaa.aa", "none.com")
# fmt: off
ISP_COMPANIES = (
    "Comcast", "Comcast Cable", "Verizon", "Verizon Business", "AT&T", "Charter Communications", "Spectrum",
    "Cox Communications", "Orange", "Orange S.A.", "Free SAS", "SFR", "Deutsche Telekom", "Vodafone", "BT",
    "Virgin Media", "Telefonica", "Rogers",
)
# fmt: on
NO_COMPANY = ("Self-employed", "Freelance", "N/A", "none", "-", "Independent", "Private")

# --- people ----------------------------------------------------------------------------------
# fmt: off
FIRST_NAMES = {
    "en": (
              "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
              "William", "Susan", "Richard", "Jessica", "Joseph", "Sarah", "Thomas", "Karen", "Chris", "Lisa",
              "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Emily", "Mark", "Ashley", "Steven", "Crissy", "Jen",
              "Kevin", "Laura", "Brian", "Rachel", "Ryan", "Megan", "Jason",
          ),
    "fr": (
              "Jean", "Marie", "Pierre", "Nathalie", "Nicolas", "Isabelle", "Julien", "Sophie", "Thomas", "Camille",
              "Antoine", "Céline", "François", "Hélène", "Mathieu", "Émilie", "Olivier", "Chloé", "Sébastien",
              "Aurélie", "Guillaume", "Léa", "Benoît", "Manon",
          ),
    "de": (
              "Thomas", "Anna", "Michael", "Katrin", "Andreas", "Julia", "Stefan", "Sabine", "Markus", "Claudia",
              "Jürgen", "Birgit", "Lukas", "Lena", "Tobias", "Jana", "Florian", "Sandra", "Matthias", "Nina", "Jörg",
              "Ute",
          ),
    "es": (
              "José", "María", "Antonio", "Carmen", "Javier", "Lucía", "Manuel", "Laura", "Francisco", "Elena",
              "David", "Marta", "Alejandro", "Sofía", "Sergio", "Paula", "Pablo", "Cristina", "Jorge", "Núria",
          ),
    "it": (
              "Marco", "Giulia", "Luca", "Francesca", "Andrea", "Chiara", "Matteo", "Sara", "Alessandro", "Valentina",
              "Giuseppe", "Elena",
          ),
    "nl": ("Daan", "Emma", "Sem", "Sanne", "Lars", "Fleur", "Bram", "Anouk", "Ruben", "Lotte", "Thijs", "Eva"),
    "nordic": ("Erik", "Anna", "Lars", "Maria", "Karl", "Emma", "Johan", "Sara", "Anders", "Ingrid", "Nils", "Astrid"),
    "in": (
              "Rahul", "Priya", "Amit", "Anjali", "Vikram", "Sneha", "Arjun", "Pooja", "Sanjay", "Neha", "Rohit",
              "Kavya", "Aditya", "Divya",
          ),
    "br": (
              "João", "Ana", "Lucas", "Juliana", "Gabriel", "Fernanda", "Rafael", "Camila", "Bruno", "Larissa",
              "Thiago", "Beatriz",
          ),
    "jp": ("Hiroshi", "Yuki", "Takashi", "Aiko", "Kenji", "Sakura", "Daiki", "Haruka", "Satoshi", "Mei"),
}
# fmt: on
# fmt: off
LAST_NAMES = {
    "en": (
              "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
              "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
              "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
              "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker", "Collins", "Edwards",
              "Stewart", "Morris", "Murphy", "Cook", "Rogers", "O'Brien", "Doe", "Reed", "Bailey", "Cooper",
          ),
    "fr": (
              "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
              "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
              "Morel", "Girard", "André", "Mercier", "Faure", "Blanc",
          ),
    "de": (
              "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
              "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
              "Braun", "Krüger",
          ),
    "es": (
              "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez",
              "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero",
          ),
    "it": (
              "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
              "Bruno", "Gallo",
          ),
    "nl": (
              "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
              "Meijer", "de Boer", "Mulder",
          ),
    "nordic": (
                  "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
                  "Svensson", "Gustafsson", "Lindberg", "Berg",
              ),
    "in": (
              "Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Mehta", "Joshi", "Rao", "Das",
              "Chopra", "Kapoor",
          ),
    "br": (
              "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
              "Costa", "Ribeiro",
          ),
    "jp": ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato"),
}
# fmt: on

# Seniority levels and departments (indices are used throughout the generator).
SENIORITIES = ("C-level", "VP", "Director", "Manager", "Individual contributor", "Student", "Consultant", "Other")
SENIORITY_WEIGHTS = (0.06, 0.08, 0.15, 0.24, 0.34, 0.05, 0.05, 0.03)
SENIORITY_FIT = (0.85, 1.0, 0.9, 0.65, 0.4, 0.0, 0.12, 0.08)
STUDENT, CONSULTANT, OTHER = 5, 6, 7
# fmt: off
DEPARTMENTS = (
    "Marketing", "Sales", "IT", "Data & Analytics", "Engineering", "Security", "Finance", "Operations",
    "Human Resources",
)
# fmt: on
DEPARTMENT_WEIGHTS = (0.17, 0.12, 0.17, 0.14, 0.12, 0.08, 0.08, 0.07, 0.05)

# fmt: off
_DEPT_EN = (
    ("Marketing", "Growth", "Demand Generation"), ("Sales", "Revenue"),
    ("IT", "Information Technology", "Infrastructure"),
    ("Data", "Analytics", "Business Intelligence", "Data & Analytics"),
    ("Engineering", "Software Engineering", "Platform"), ("Security", "Information Security", "Cybersecurity"),
    ("Finance", "FP&A"), ("Operations", "Business Operations"), ("HR", "People", "Human Resources"),
)
# fmt: on
# fmt: off
_CLEVEL_EN = (
    ("CMO", "Chief Marketing Officer"), ("CRO", "Chief Revenue Officer"), ("CIO", "Chief Information Officer"),
    ("CDO", "Chief Data Officer", "Chief Analytics Officer"), ("CTO", "Chief Technology Officer"),
    ("CISO", "Chief Information Security Officer"), ("CFO", "Chief Financial Officer"),
    ("COO", "Chief Operating Officer"), ("CHRO", "Chief People Officer"),
)
# fmt: on
# fmt: off
_CEO_EN = (
    "CEO", "CEO & Founder", "Founder", "Co-Founder", "President", "Owner", "Managing Director",
    "Chief Executive Officer",
)
# fmt: on
# fmt: off
_IC_EN = (
    ("Marketing Specialist", "Growth Marketer", "Content Marketing Manager", "Marketing Coordinator"),
    ("Account Executive", "Sales Representative", "Business Development Rep"),
    ("Systems Administrator", "IT Specialist", "IT Analyst"),
    ("Data Analyst", "Data Engineer", "BI Developer", "Data Scientist", "Analytics Engineer"),
    ("Software Engineer", "DevOps Engineer", "Solutions Architect"),
    ("Security Analyst", "Security Engineer", "SOC Analyst"), ("Financial Analyst", "Accountant", "Controller"),
    ("Operations Analyst", "Project Manager", "Business Analyst"), ("HR Generalist", "Recruiter", "Talent Partner"),
)
# fmt: on

# fmt: off
_DEPT_FR = (
    ("Marketing",), ("Commercial", "des Ventes"), ("Informatique", "des Systèmes d'Information"),
    ("Data", "des Données"), ("Technique", "R&D"), ("Sécurité",), ("Financier",), ("des Opérations",),
    ("des Ressources Humaines", "RH"),
)
# fmt: on
# fmt: off
_CLEVEL_FR = (
    ("Directeur Marketing",), ("Directeur Commercial",), ("DSI", "Directeur des Systèmes d'Information"),
    ("Chief Data Officer",), ("Directeur Technique", "CTO"), ("RSSI",), ("DAF", "Directeur Financier"),
    ("Directeur des Opérations",), ("DRH",),
)
# fmt: on
_CEO_FR = ("PDG", "Directeur Général", "Directrice Générale", "Président", "Fondateur", "Gérant")
# fmt: off
_IC_FR = (
    ("Chargé de marketing", "Chargée de communication"), ("Commercial", "Ingénieur commercial"),
    ("Technicien informatique", "Administrateur systèmes"), ("Analyste de données", "Data Analyst"),
    ("Ingénieur logiciel", "Développeur"), ("Ingénieur sécurité", "Analyste SOC"),
    ("Contrôleur de gestion", "Comptable"), ("Chef de projet", "Analyste métier"),
    ("Chargée de recrutement", "Gestionnaire RH"),
)
# fmt: on

# fmt: off
_DEPT_DE = (
    ("Marketing",), ("Vertrieb",), ("IT",), ("Daten & Analytik", "BI"), ("Entwicklung",), ("IT-Sicherheit",),
    ("Finanzen",), ("Operations",), ("Personal",),
)
# fmt: on
# fmt: off
_CLEVEL_DE = (
    ("CMO", "Marketingleiter"), ("Vertriebsleiter",), ("CIO", "IT-Direktor"), ("CDO",), ("CTO", "Technischer Leiter"),
    ("CISO",), ("CFO", "Finanzvorstand"), ("COO",), ("Personalchef",),
)
# fmt: on
_CEO_DE = ("Geschäftsführer", "Geschäftsführerin", "Vorstand", "Inhaber", "CEO", "Gründer")
# fmt: off
_IC_DE = (
    ("Marketing-Referent", "Online-Marketing-Manager"), ("Vertriebsmitarbeiter", "Key Account Manager"),
    ("Systemadministrator", "IT-Administrator"), ("Datenanalyst", "Data Engineer"),
    ("Softwareentwickler", "Entwickler"), ("Sicherheitsanalyst",), ("Controller", "Buchhalter"), ("Projektleiter",),
    ("Personalreferentin",),
)
# fmt: on

# fmt: off
_DEPT_ES = (
    ("Marketing",), ("Ventas",), ("TI", "Sistemas"), ("Datos", "Analítica"), ("Ingeniería",), ("Seguridad",),
    ("Finanzas",), ("Operaciones",), ("Recursos Humanos",),
)
# fmt: on
# fmt: off
_CLEVEL_ES = (
    ("Director de Marketing",), ("Director Comercial",), ("CIO", "Director de Sistemas"), ("Director de Datos",),
    ("CTO", "Director Técnico"), ("CISO",), ("Director Financiero", "CFO"), ("Director de Operaciones",),
    ("Director de RRHH",),
)
# fmt: on
_CEO_ES = ("Director General", "Consejero Delegado", "CEO", "Fundador", "Gerente General")
# fmt: off
_IC_ES = (
    ("Técnico de Marketing",), ("Ejecutivo de Ventas", "Comercial"), ("Técnico de Sistemas",),
    ("Analista de Datos", "Ingeniero de Datos"), ("Ingeniero de Software", "Desarrollador"),
    ("Analista de Seguridad",), ("Contable", "Analista Financiero"), ("Jefe de Proyecto",), ("Técnico de RRHH",),
)
# fmt: on

# fmt: off
_STUDENT = {
    "en": ("student", "Student", "MBA Candidate", "Graduate Student", "PhD Student", "Intern"),
    "fr": ("Étudiant", "étudiante", "Stagiaire", "Alternant"), "de": ("Werkstudent", "Student", "Praktikant"),
    "es": ("Estudiante", "Becario"),
}
# fmt: on
# fmt: off
_CONSULTANT = {
    "en": (
              "consultant", "Consultant", "Independent Consultant", "Freelance Consultant", "Senior Consultant",
              "Advisor",
          ),
    "fr": ("Consultant", "Consultante indépendante"), "de": ("Berater", "Unternehmensberater"),
    "es": ("Consultor", "Asesor"),
}
# fmt: on
# fmt: off
_OTHER = {
    "en": ("Assistant", "Executive Assistant", "Office Manager", "n/a", "-", "x", "Other", "none"),
    "fr": ("Assistante de direction", "Autre"), "de": ("Assistenz der Geschäftsführung",),
    "es": ("Asistente", "Otro"),
}
# fmt: on
TITLE_LANGS = ("en", "fr", "de", "es")


def _titles_for(lang: str, sen: int, dept: int) -> tuple[str, ...]:
    dept_names = {"en": _DEPT_EN, "fr": _DEPT_FR, "de": _DEPT_DE, "es": _DEPT_ES}[lang][dept]
    if sen == 0:
        clevel = {"en": _CLEVEL_EN, "fr": _CLEVEL_FR, "de": _CLEVEL_DE, "es": _CLEVEL_ES}[lang][dept]
        ceo = {"en": _CEO_EN, "fr": _CEO_FR, "de": _CEO_DE, "es": _CEO_ES}[lang]
        return clevel + ceo[:3]
    if sen >= STUDENT:
        table = {STUDENT: _STUDENT, CONSULTANT: _CONSULTANT, OTHER: _OTHER}[sen]
        return table[lang]
    if sen == 4:
        return {"en": _IC_EN, "fr": _IC_FR, "de": _IC_DE, "es": _IC_ES}[lang][dept]
    patterns = {
        ("en", 1): ("VP {d}", "Vice President, {d}", "VP of {d}", "SVP {d}", "Head of {d}"),
        ("en", 2): ("Director of {d}", "{d} Director", "Sr. Director, {d}", "Head of {d}"),
        ("en", 3): ("{d} Manager", "Manager, {d}", "Senior {d} Manager", "{d} Team Lead"),
        ("fr", 1): ("Directeur {d}", "Directrice {d}", "VP {d}"),
        ("fr", 2): ("Directeur {d}", "Directrice {d}", "Responsable {d}"),
        ("fr", 3): ("Responsable {d}", "Manager {d}", "Chef de service {d}"),
        ("de", 1): ("Leiter {d}", "Bereichsleiter {d}", "Head of {d}", "VP {d}"),
        ("de", 2): ("Leiterin {d}", "Abteilungsleiter {d}", "Head of {d}"),
        ("de", 3): ("Teamleiter {d}", "{d} Manager", "Gruppenleiter {d}"),
        ("es", 1): ("Director de {d}", "VP de {d}", "Directora de {d}"),
        ("es", 2): ("Director de {d}", "Jefe de {d}", "Directora de {d}"),
        ("es", 3): ("Gerente de {d}", "Responsable de {d}", "Coordinador de {d}"),
    }[(lang, sen)]
    return tuple(p.format(d=d) for p in patterns for d in dept_names)


def title_table() -> list[tuple[int, int, int, str]]:
    """Every free-text job title as (seniority, department, language index, title)."""
    rows = []
    for li, lang in enumerate(TITLE_LANGS):
        for sen in range(len(SENIORITIES)):
            for dept in range(len(DEPARTMENTS)):
                rows.extend((sen, dept, li, t) for t in _titles_for(lang, sen, dept))
    return rows


def ceo_titles() -> list[tuple[int, str]]:
    """Chief-executive titles (no department) per language index."""
    return [
        (li, t)
        for li, lang in enumerate(TITLE_LANGS)
        for t in {"en": _CEO_EN, "fr": _CEO_FR, "de": _CEO_DE, "es": _CEO_ES}[lang]
    ]


# --- user agents and networks -----------------------------------------------------------------
# fmt: off
BROWSER_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36",
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 "
     "Safari/537.36"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 "
     "Safari/605.1.15"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
     "Safari/605.1.15"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 "
     "Safari/537.36 Edg/132.0.0.0"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 "
     "Safari/537.36 Edg/136.0.0.0"),
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:135.0) Gecko/20100101 Firefox/135.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:138.0) Gecko/20100101 Firefox/138.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/135.0.0.0 Safari/537.36",
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.3 Mobile/15E148 Safari/604.1"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.6 Mobile/15E148 Safari/604.1"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Mobile "
     "Safari/537.36"),
    ("Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 "
     "Chrome/122.0.0.0 Mobile Safari/537.36"),
    ("Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
     "Mobile/15E148 Safari/604.1"),
)
# fmt: on
BROWSER_UA_WEIGHTS = (10, 10, 9, 8, 7, 4, 6, 5, 4, 2, 2, 5, 3, 3, 2, 1)

# name, user agent, IP prefixes (first two or three octets), share of crawler traffic
# fmt: off
CRAWLERS = (
    (
        "Googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ("66.249.66", "66.249.68", "66.249.79"), 24,
    ),
    (
        "Googlebot-Mobile",
        ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/134.0.6998.165 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
         "+http://www.google.com/bot.html)"),
        ("66.249.66", "66.249.70"), 12,
    ),
    (
        "bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        ("157.55.39", "40.77.167", "207.46.13"), 18,
    ),
    (
        "AhrefsBot", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        ("54.36.148", "54.36.149", "5.39.1"), 12,
    ),
    ("SemrushBot", "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", ("185.191.171",), 9),
    ("YandexBot", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", ("5.255.231", "213.180.203"), 5),
    (
        "Baiduspider", "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        ("116.179.32",), 3,
    ),
    ("DuckDuckBot", "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", ("20.191.45",), 2),
    (
        "Applebot",
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)"),
        ("17.241.219",), 3,
    ),
    (
        "GPTBot",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        ("20.171.207",), 5,
    ),
    (
        "facebookexternalhit", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        ("69.171.249", "173.252.83"), 2,
    ),
    (
        "LinkedInBot", "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        ("108.174.2",), 2,
    ),
    ("MJ12bot", "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)", ("144.76.23",), 3),
)
# fmt: on
# fmt: off
MONITORS = (
    (
        "UptimeRobot", "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        ("69.162.124", "216.144.250"), "HEAD", "/",
    ),
    (
        "Pingdom", "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", ("178.255.152", "185.180.12"), "GET",
        "/health",
    ),
)
# fmt: on
# fmt: off
ATTACK_TOOL_UAS = (
    "sqlmap/1.8.4#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000562)",
    "python-requests/2.32.3", "curl/8.5.0", "Go-http-client/1.1", "Mozilla/5.0 zgrab/0.x",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)", "Wget/1.21.4",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
)
# fmt: on
# Link scanners of email security gateways: odd or stale user agents from data centres.
# fmt: off
SCANNER_UAS = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.141 "
     "Safari/537.36"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/114.0.5735.133 "
     "Safari/537.36"),
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)",
    "Mozilla/4.0 (compatible; ms-office; MSOffice 16)", "python-urllib3/1.26.18",
)
# fmt: on
SCANNER_NETS = ("52.112", "40.94", "104.47", "20.98", "35.190", "34.105")
# fmt: off
EMAIL_CLIENT_UAS = (
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18025; Pro)",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36",
)
# fmt: on
# First octets of public address space used for offices and homes.
# fmt: off
PUBLIC_FIRST_OCTETS = (
    12, 24, 31, 37, 45, 46, 50, 62, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86,
    87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 107, 108, 109, 151, 173, 174, 176, 178, 188, 193, 194, 195,
    212, 213, 217,
)
# fmt: on

# fmt: off
EXTERNAL_REFERRERS = (
    ("-", 30), ("https://www.google.com/", 30), ("https://www.google.co.uk/", 3), ("https://www.google.fr/", 3),
    ("https://www.google.de/", 3), ("https://www.bing.com/", 5), ("https://duckduckgo.com/", 2),
    ("https://www.linkedin.com/", 8), ("https://t.co/", 2), ("https://www.g2.com/", 3),
    ("https://news.ycombinator.com/", 1), ("https://www.reddit.com/", 1), ("https://www.youtube.com/", 1),
    ("android-app://com.google.android.gm/", 1), ("https://outlook.office.com/", 1), ("https://mail.google.com/", 1),
)
# fmt: on
