"""Word lists for the synthetic StreamRec dataset: TMDB genres, keywords, title and overview
words, people's names, companies, countries and languages.

Kept apart from the generator so the generator reads as logic. Everything here is plain
constant data; the genre ids and the 20 genre names are TMDB's real ones, so files generated
from these lists look like The Movies Dataset to the ETL.
"""

from __future__ import annotations

# (TMDB id, name, relative frequency in movies_metadata.csv): frequencies from the real file,
# so Drama/Comedy dominate like they do there.
GENRES: tuple[tuple[int, str, int], ...] = (
    (28, "Action", 6596),
    (12, "Adventure", 3496),
    (16, "Animation", 1935),
    (35, "Comedy", 13182),
    (80, "Crime", 4307),
    (99, "Documentary", 3932),
    (18, "Drama", 20265),
    (10751, "Family", 2770),
    (14, "Fantasy", 2313),
    (10769, "Foreign", 1622),
    (36, "History", 1398),
    (27, "Horror", 4673),
    (10402, "Music", 1598),
    (9648, "Mystery", 2467),
    (10749, "Romance", 6735),
    (878, "Science Fiction", 3049),
    (10770, "TV Movie", 767),
    (53, "Thriller", 7624),
    (10752, "War", 1323),
    (37, "Western", 1042),
)
GENRE_NAMES: tuple[str, ...] = tuple(g[1] for g in GENRES)

# Per genre: (title nouns, title adjectives, overview roles, overview goals, genre keywords).
# Movies of one genre share these words, which is what content similarity should pick up.
GENRE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "Action": {
        "nouns": ("Strike", "Fury", "Target", "Mission", "Impact", "Vengeance", "Siege", "Bullet"),
        "adjs": ("Deadly", "Final", "Lethal", "Rogue", "Maximum", "Extreme"),
        "roles": ("ex-commando", "bodyguard", "special agent", "getaway driver"),
        "goals": ("stop a ruthless arms dealer", "rescue the hostages", "bring down a mercenary army"),
        "keywords": ("explosion", "car chase", "martial arts", "shootout", "mercenary", "hostage",
                     "one man army", "revenge", "bomb", "henchman"),
    },
    "Adventure": {
        "nouns": ("Quest", "Expedition", "Treasure", "Island", "Journey", "Voyage", "Map", "Jungle"),
        "adjs": ("Lost", "Hidden", "Great", "Forgotten", "Wild", "Golden"),
        "roles": ("explorer", "treasure hunter", "young sailor", "archaeologist"),
        "goals": ("find the lost city", "cross the uncharted sea", "recover an ancient relic"),
        "keywords": ("treasure hunt", "jungle", "expedition", "island", "ancient civilization",
                     "map", "shipwreck", "quest", "desert", "pirate"),
    },
    "Animation": {
        "nouns": ("Toys", "Dragon", "Kingdom", "Forest", "Robot", "Penguins", "Bunny", "Balloon"),
        "adjs": ("Little", "Magic", "Brave", "Tiny", "Funny", "Happy"),
        "roles": ("talking rabbit", "small robot", "young dragon", "toy soldier"),
        "goals": ("find the way back home", "save the enchanted forest", "win the great race"),
        "keywords": ("anthropomorphism", "talking animal", "toy", "cartoon", "computer animation",
                     "fairy tale", "duringcreditsstinger", "sidekick", "animal", "musical number"),
    },
    "Comedy": {
        "nouns": ("Wedding", "Vacation", "Roommates", "Party", "Neighbors", "Trouble", "Weekend", "Boss"),
        "adjs": ("Crazy", "Big", "Wild", "Dumb", "Awkward", "Lucky"),
        "roles": ("slacker", "stand-up comedian", "clumsy waiter", "hapless groom"),
        "goals": ("survive the worst weekend ever", "win back an ex", "throw the party of the decade"),
        "keywords": ("parody", "slapstick", "road trip", "wedding", "best friend", "prank",
                     "mistaken identity", "bachelor party", "roommate", "satire"),
    },
    "Crime": {
        "nouns": ("Heist", "Syndicate", "Street", "Score", "Mob", "Racket", "Informant", "Gang"),
        "adjs": ("Dirty", "Cold", "Crooked", "Hard", "Brutal", "Perfect"),
        "roles": ("detective", "mob accountant", "safecracker", "undercover cop"),
        "goals": ("pull off one last heist", "bring down the mob boss", "clear a framed brother"),
        "keywords": ("heist", "mafia", "police", "drug dealer", "gangster", "murder", "robbery",
                     "corruption", "prison", "organized crime"),
    },
    "Documentary": {
        "nouns": ("Truth", "Story", "Planet", "Voices", "Ocean", "Revolution", "Record", "Frontier"),
        "adjs": ("Untold", "Real", "Inside", "Hidden", "True", "Living"),
        "roles": ("filmmaker", "journalist", "scientist", "activist"),
        "goals": ("uncover the facts behind the headlines", "document a vanishing way of life",
                  "follow a year on the frozen ocean"),
        "keywords": ("interview", "biography", "nature", "archive footage", "environment",
                     "politics", "music documentary", "sport", "investigation", "wildlife"),
    },
    "Drama": {
        "nouns": ("Promise", "Silence", "Father", "River", "Letters", "Family", "Years", "Winter"),
        "adjs": ("Quiet", "Broken", "Long", "Distant", "Second", "Bitter"),
        "roles": ("widowed teacher", "struggling musician", "young nurse", "estranged son"),
        "goals": ("reconcile with a dying father", "hold the family together", "start over in a new town"),
        "keywords": ("family relationships", "loss", "grief", "coming of age", "based on novel",
                     "small town", "friendship", "redemption", "illness", "poverty"),
    },
    "Family": {
        "nouns": ("Puppy", "Christmas", "Holiday", "Camp", "Pony", "Adventure", "Secret", "Treehouse"),
        "adjs": ("Little", "Merry", "Brave", "Magical", "Clever", "Big"),
        "roles": ("ten-year-old girl", "kind grandfather", "family dog", "new kid in school"),
        "goals": ("save the summer camp", "find a home for a lost puppy", "rescue Christmas"),
        "keywords": ("dog", "christmas", "children", "family", "holiday", "summer camp",
                     "based on children's book", "pet", "school", "siblings"),
    },
    "Fantasy": {
        "nouns": ("Sword", "Sorcerer", "Realm", "Crown", "Wizard", "Prophecy", "Kingdom", "Spell"),
        "adjs": ("Enchanted", "Dark", "Ancient", "Eternal", "Mystic", "Shadow"),
        "roles": ("young wizard", "exiled prince", "elf archer", "reluctant chosen one"),
        "goals": ("fulfil an ancient prophecy", "defeat the dark lord", "break an ancient curse"),
        "keywords": ("magic", "wizard", "dragon", "sword and sorcery", "prophecy", "curse",
                     "elves", "parallel world", "witch", "mythology"),
    },
    "Foreign": {
        "nouns": ("Village", "Harbour", "Border", "Garden", "Tram", "Market", "Homeland", "Letters"),
        "adjs": ("Faraway", "Northern", "Southern", "Old", "Foreign", "Blue"),
        "roles": ("migrant worker", "village doctor", "fisherman", "schoolteacher"),
        "goals": ("return to the home village", "cross the border", "keep the family farm"),
        "keywords": ("immigrant", "village", "tradition", "language barrier", "rural setting",
                     "culture clash", "independent film", "woman director", "homeland", "exile"),
    },
    "History": {
        "nouns": ("Empire", "Emperor", "Revolution", "Throne", "Republic", "Dynasty", "Century", "Queen"),
        "adjs": ("Last", "First", "Great", "Royal", "Imperial", "Fallen"),
        "roles": ("young queen", "royal adviser", "rebel general", "court painter"),
        "goals": ("hold the throne", "lead the revolution", "survive the fall of the empire"),
        "keywords": ("historical figure", "biography", "monarchy", "19th century", "revolution",
                     "based on true story", "ancient rome", "empire", "period drama", "medieval"),
    },
    "Horror": {
        "nouns": ("Curse", "Haunting", "Darkness", "Ritual", "Cellar", "Possession", "Nightmare", "Grave"),
        "adjs": ("Evil", "Dead", "Sinister", "Cursed", "Bloody", "Hollow"),
        "roles": ("babysitter", "paranormal investigator", "college student", "new homeowner"),
        "goals": ("survive the night", "escape the haunted house", "break the demonic curse"),
        "keywords": ("haunted house", "ghost", "demon", "slasher", "zombie", "possession",
                     "serial killer", "supernatural", "vampire", "blood"),
    },
    "Music": {
        "nouns": ("Song", "Band", "Rhythm", "Stage", "Melody", "Encore", "Tour", "Groove"),
        "adjs": ("Loud", "Sweet", "Soulful", "Electric", "Golden", "Rising"),
        "roles": ("jazz pianist", "garage band drummer", "pop singer", "choir teacher"),
        "goals": ("win the national contest", "get the band back together", "play one last concert"),
        "keywords": ("musician", "concert", "band", "singer", "jazz", "rock and roll",
                     "musical", "dance", "music competition", "hip-hop"),
    },
    "Mystery": {
        "nouns": ("Secret", "Clue", "Manor", "Riddle", "Disappearance", "Witness", "Key", "Shadow"),
        "adjs": ("Strange", "Silent", "Missing", "Hidden", "Twisted", "Dark"),
        "roles": ("private investigator", "amateur sleuth", "crime novelist", "insurance clerk"),
        "goals": ("solve the locked-room murder", "find the missing heiress", "expose the hidden killer"),
        "keywords": ("whodunit", "investigation", "disappearance", "detective", "murder mystery",
                     "secret", "amnesia", "conspiracy", "twist ending", "clue"),
    },
    "Romance": {
        "nouns": ("Love", "Heart", "Kiss", "Summer", "Promise", "Wedding", "Letter", "Paris"),
        "adjs": ("Sweet", "Endless", "Lovely", "Perfect", "Tender", "Forever"),
        "roles": ("florist", "young widow", "charming stranger", "wedding planner"),
        "goals": ("follow the heart", "choose between two lovers", "find true love again"),
        "keywords": ("love", "romance", "relationship", "first love", "love triangle",
                     "chick flick", "wedding", "infidelity", "soulmate", "love at first sight"),
    },
    "Science Fiction": {
        "nouns": ("Planet", "Galaxy", "Signal", "Android", "Colony", "Orbit", "Machine", "Future"),
        "adjs": ("Cosmic", "Alien", "Quantum", "Infinite", "Stellar", "Artificial"),
        "roles": ("astronaut", "rogue android", "time traveler", "starship pilot"),
        "goals": ("save the last human colony", "stop the alien invasion", "repair the broken timeline"),
        "keywords": ("space", "alien", "robot", "time travel", "dystopia", "artificial intelligence",
                     "spaceship", "future", "cyborg", "post-apocalyptic"),
    },
    "TV Movie": {
        "nouns": ("Special", "Reunion", "Holiday", "Inn", "Bakery", "Homecoming", "Gift", "Town"),
        "adjs": ("Perfect", "Cozy", "Sweet", "Happy", "Little", "Sunny"),
        "roles": ("small-town baker", "city lawyer", "returning soldier", "innkeeper"),
        "goals": ("save the family inn", "come home for the holidays", "win the baking contest"),
        "keywords": ("television film", "holiday season", "small business", "hometown",
                     "remake", "christmas party", "reunion", "single father", "baking", "snow"),
    },
    "Thriller": {
        "nouns": ("Trap", "Pursuit", "Deception", "Conspiracy", "Stranger", "Witness", "Code", "Edge"),
        "adjs": ("Dangerous", "Fatal", "Silent", "Lethal", "Cold", "Paranoid"),
        "roles": ("whistleblower", "hostage negotiator", "hacker", "federal agent"),
        "goals": ("expose a deadly conspiracy", "outwit a cunning killer", "clear a framed name"),
        "keywords": ("suspense", "kidnapping", "psychopath", "conspiracy", "stalker", "cat and mouse",
                     "espionage", "blackmail", "psychological thriller", "chase"),
    },
    "War": {
        "nouns": ("Battle", "Front", "Soldiers", "Beach", "Regiment", "Bridge", "Trenches", "Siege"),
        "adjs": ("Bloody", "Last", "Brave", "Fallen", "Iron", "Distant"),
        "roles": ("platoon sergeant", "field medic", "fighter pilot", "resistance fighter"),
        "goals": ("hold the bridge", "bring the platoon home", "break through the enemy line"),
        "keywords": ("world war ii", "soldier", "battle", "nazi", "army", "vietnam war",
                     "resistance", "prisoner of war", "military", "world war i"),
    },
    "Western": {
        "nouns": ("Gunslinger", "Frontier", "Outlaw", "Saloon", "Canyon", "Ranch", "Sheriff", "Trail"),
        "adjs": ("Wild", "Lonesome", "Dusty", "Red", "Rough", "High"),
        "roles": ("bounty hunter", "frontier sheriff", "cattle rancher", "gunfighter"),
        "goals": ("defend the town from outlaws", "drive the herd to Texas", "avenge a murdered brother"),
        "keywords": ("gunslinger", "sheriff", "outlaw", "cowboy", "duel", "bounty hunter",
                     "native american", "saloon", "horse", "frontier"),
    },
}

# Keywords any movie may carry, whatever its genre.
GENERIC_KEYWORDS: tuple[str, ...] = (
    "woman director", "independent film", "based on novel", "sequel", "remake", "new york",
    "london england", "los angeles", "paris france", "father son relationship",
    "mother daughter relationship", "friendship", "dying and death", "sex", "nudity",
    "duringcreditsstinger", "aftercreditsstinger", "biography", "sport", "money",
    "high school", "teenager", "marriage", "divorce", "secret identity", "betrayal",
    "jealousy", "journalist", "hospital", "train", "airplane", "small town", "suicide",
    "politics", "usa", "brother brother relationship", "flashback", "dream", "photography",
    "rivalry", "loneliness", "hotel", "island", "nightclub", "police", "based on comic",
    "3d", "woman", "lawyer", "courtroom", "amnesia", "nurse", "taxi", "ship", "kidnapping",
    "boy next door", "new home", "old men", "board game", "single mother", "fishing",
    "based on children's book", "memory", "war veteran", "party", "gambling", "boxing",
)

# Title building blocks shared by all genres.
TITLE_PLACES: tuple[str, ...] = (
    "Paris", "Brooklyn", "the North", "the Valley", "Avalon", "Tokyo", "the Desert", "Eden",
    "the River", "Mars", "the Night", "Tomorrow", "the Sea", "Shadows", "the Moon", "Glass",
)
SEQUEL_SUBTITLES: tuple[str, ...] = (
    "Reckoning", "Resurrection", "The Return", "Origins", "Revelations", "The Next Chapter",
    "Homecoming", "Endgame", "Rise of the Fallen", "Legacy", "Retribution", "Awakening",
)
OVERVIEW_PLACES: tuple[str, ...] = (
    "a sleepy coastal town", "New York City", "a remote mountain village", "Los Angeles",
    "postwar Berlin", "the outskirts of Paris", "a crumbling Victorian mansion",
    "a Texas border town", "1970s London", "a distant mining colony", "a busy Tokyo suburb",
    "rural Ireland", "a boarding school", "the Arizona desert", "a small Midwestern town",
)
TAGLINES: tuple[str, ...] = (
    "Some secrets never stay buried.", "The adventure of a lifetime.", "One last chance.",
    "Nothing will ever be the same.", "Trust no one.", "Love knows no limits.",
    "Every legend has a beginning.", "The truth is out there.", "Get ready to laugh.",
    "Run.", "It's not over until it's over.", "Heroes aren't born. They're made.",
    "Don't look back.", "A story you'll never forget.", "Welcome home.",
)

FIRST_NAMES_F: tuple[str, ...] = (
    "Mary", "Anna", "Emma", "Olivia", "Sophia", "Grace", "Laura", "Sarah", "Julia", "Claire",
    "Helen", "Diane", "Susan", "Karen", "Nancy", "Rachel", "Emily", "Maria", "Elena", "Sofia",
    "Chloé", "Zoë", "Ingrid", "Astrid", "Yuki", "Mei", "Priya", "Aisha", "Fatima", "Leila",
    "Nora", "Ruth", "Joan", "Meryl", "Kate", "Jane", "Lucy", "Amélie", "Renée", "Margot",
    "Ada", "Iris", "Vera", "Nina", "Tess", "Paula", "Carmen", "Lena", "Hana", "Rosa",
)
FIRST_NAMES_M: tuple[str, ...] = (
    "John", "James", "Robert", "Michael", "William", "David", "Richard", "Thomas", "Charles",
    "Daniel", "Matthew", "Anthony", "Mark", "Paul", "Steven", "Andrew", "Kevin", "Brian",
    "George", "Edward", "Peter", "Frank", "Henry", "Jack", "Samuel", "Ben", "Luke", "Oscar",
    "Hugo", "Felix", "José", "André", "François", "Jürgen", "Søren", "Björn", "Hiroshi",
    "Kenji", "Raj", "Omar", "Ali", "Ivan", "Dmitri", "Pedro", "Diego", "Marco", "Luca",
    "Sean", "Liam", "Owen",
)
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
    "Lewis", "Walker", "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker",
    "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans",
    "Turner", "Parker", "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers",
    "Morgan", "Cooper", "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward", "Cox", "Rivera",
    "Hughes", "Price", "Bennett", "Wood", "Barnes", "Ross", "Foster", "Powell", "Long",
    "O'Brien", "O'Connor", "O'Hara", "D'Amico", "D'Angelo", "McKay", "MacLeod", "van Dijk",
    "de la Cruz", "Núñez", "García", "Müller", "Schröder", "Ørnås", "Lindqvist", "Dubois",
    "Lefèvre", "Rossi", "Bianchi", "Kowalski", "Novák", "Petrov", "Ivanova", "Tanaka",
    "Suzuki", "Watanabe", "Kim", "Park", "Chen", "Wang", "Singh", "Sharma", "Khan", "Haddad",
    "Nakamura", "Yamamoto", "Costa", "Silva", "Santos", "Fischer", "Weber", "Bergström",
)
MIDDLE_INITIALS: str = "ABCDEFGHJKLMNPRSTW"
# Cast "character" values that are not a person's name.
STOCK_CHARACTERS: tuple[str, ...] = (
    "Himself", "Herself", "Narrator", "Detective", "Nurse", "Doctor", "Old Man", "Young Girl",
    "Bartender", "Waitress", "Police Officer", "Reporter", "Priest", "Soldier", "Guard",
    "Taxi Driver", "Mother", "Father", "Teacher", "Boy", "Girl", "Man in Bar", "Woman in Park",
)

# (department, job, weight): crew jobs beyond the Director, weighted like the real credits.
CREW_JOBS: tuple[tuple[str, str, int], ...] = (
    ("Production", "Producer", 73), ("Writing", "Screenplay", 54), ("Editing", "Editor", 37),
    ("Production", "Executive Producer", 36), ("Camera", "Director of Photography", 32),
    ("Sound", "Original Music Composer", 19), ("Production", "Casting", 21),
    ("Art", "Production Design", 17), ("Art", "Art Direction", 19), ("Art", "Set Decoration", 17),
    ("Costume & Make-Up", "Costume Design", 16), ("Costume & Make-Up", "Makeup Artist", 15),
    ("Writing", "Writer", 11), ("Writing", "Novel", 12), ("Crew", "Stunts", 20),
    ("Sound", "Sound Re-Recording Mixer", 25), ("Camera", "Camera Operator", 17),
    ("Directing", "Script Supervisor", 10), ("Crew", "Special Effects", 11),
    ("Visual Effects", "Animation", 10), ("Production", "Co-Producer", 7),
    ("Sound", "Music", 9), ("Sound", "Foley", 8), ("Lighting", "Gaffer", 6),
)

# Companies: (name). Ids are assigned by the generator. Apostrophes exercise repr's quoting.
COMPANIES: tuple[str, ...] = (
    "Warner Bros.", "Paramount Pictures", "Universal Pictures", "Columbia Pictures",
    "Twentieth Century Fox Film Corporation", "Metro-Goldwyn-Mayer (MGM)", "New Line Cinema",
    "Walt Disney Pictures", "Pixar Animation Studios", "Lionsgate", "Miramax Films",
    "DreamWorks SKG", "Canal+", "StudioCanal", "BBC Films", "Film4", "Gaumont", "Toho Company",
    "Studio Ghibli", "Summit Entertainment", "Touchstone Pictures", "TriStar Pictures",
    "United Artists", "Focus Features", "Relativity Media", "Village Roadshow Pictures",
    "Legendary Pictures", "Working Title Films", "Blumhouse Productions", "Amblin Entertainment",
    "Orion Pictures", "Castle Rock Entertainment", "The Weinstein Company", "Dimension Films",
    "Silver Pictures", "Regency Enterprises", "Constantin Film", "Pathé", "Shochiku",
    "Children's Television Workshop", "Hart's Crossing Films", "O'Malley Brothers Pictures",
    "Mosfilm", "Yash Raj Films", "CJ Entertainment", "China Film Group Corporation",
    "Nordisk Film", "Svensk Filmindustri", "Rai Cinema", "El Deseo",
)
STUDIO_WORDS: tuple[str, ...] = ("Pictures", "Films", "Entertainment", "Productions", "Studios")

# (ISO 639-1, spoken-language name as TMDB writes it, share, ISO 3166-1, country name).
LANGUAGES: tuple[tuple[str, str, float, str, str], ...] = (
    ("en", "English", 0.72, "US", "United States of America"),
    ("fr", "Français", 0.054, "FR", "France"),
    ("it", "Italiano", 0.031, "IT", "Italy"),
    ("ja", "日本語", 0.030, "JP", "Japan"),
    ("de", "Deutsch", 0.024, "DE", "Germany"),
    ("es", "Español", 0.022, "ES", "Spain"),
    ("ru", "Pусский", 0.018, "RU", "Russia"),
    ("hi", "हिन्दी", 0.011, "IN", "India"),
    ("ko", "한국어/조선말", 0.010, "KR", "South Korea"),
    ("zh", "普通话", 0.009, "CN", "China"),
    ("sv", "svenska", 0.008, "SE", "Sweden"),
    ("pt", "Português", 0.007, "BR", "Brazil"),
    ("cn", "广州话 / 廣州話", 0.006, "HK", "Hong Kong"),
    ("da", "Dansk", 0.005, "DK", "Denmark"),
    ("pl", "Polski", 0.005, "PL", "Poland"),
    ("nl", "Nederlands", 0.004, "NL", "Netherlands"),
    ("xx", "No Language", 0.002, "GB", "United Kingdom"),
)
EXTRA_COUNTRIES: tuple[tuple[str, str], ...] = (
    ("GB", "United Kingdom"), ("CA", "Canada"), ("AU", "Australia"), ("FR", "France"),
    ("DE", "Germany"), ("US", "United States of America"),
)
STATUSES: tuple[tuple[str, float], ...] = (
    ("Released", 0.985), ("Rumored", 0.005), ("Post Production", 0.004),
    ("In Production", 0.003), ("Planned", 0.002), ("Canceled", 0.001),
)
