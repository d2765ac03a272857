"""Write gold.yaml. The codings are typed by hand below; the helpers only
copy the exact text of a unit out of the corpus file so that each quote is an
exact substring (line breaks, hyphens and all)."""
import os, yaml

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
ORDER = ["finance", "trust", "design", "government", "leadership"]
AB = {"F": "finance", "T": "trust", "D": "design", "G": "government", "L": "leadership"}
_cache = {}

def text(doc):
    if doc not in _cache:
        with open(os.path.join(CORPUS, doc), encoding="utf-8", newline="") as f:
            _cache[doc] = f.read()
    return _cache[doc]

def S(doc, start, end):
    """Span from `start` (must occur once) up to and including the first `end` after it."""
    t = text(doc)
    assert t.count(start) == 1, (doc, start, t.count(start))
    i = t.index(start)
    j = t.index(end, i + len(start) - len(end) if len(end) <= len(start) else i) + len(end)
    return t[i:j]

def LINE(doc, start, strip_quote=False):
    """From `start` (once) to the end of its line."""
    t = text(doc)
    assert t.count(start) == 1, (doc, start, t.count(start))
    i = t.index(start)
    j = t.find("\n", i)
    q = t[i:j if j >= 0 else len(t)]
    if strip_quote and q.endswith('"'):
        q = q[:-1]
    return q

def TURN(doc, start):
    """From `start` (once) to the end of its block (next blank line)."""
    t = text(doc)
    assert t.count(start) == 1, (doc, start, t.count(start))
    i = t.index(start)
    j = t.find("\n\n", i)
    q = t[i:j if j >= 0 else len(t)]
    return q.rstrip("\n")

def th(codes):
    s = {AB[c] for c in codes}
    return [x for x in ORDER if x in s]

units = []
def add(doc, quote, codes=""):
    units.append({"doc": doc, "quote": quote, "themes": th(codes)})

# ---------------------------------------------------------------- 01 report
d = "01_report_rudnik_wicker.txt"
add(d, S(d, "Rudnik nad Sanem has long been known", "under the roof."), "")
add(d, S(d, "The study covered 31 house-", "buy from them."), "")
add(d, S(d, "The visits were designed to fit", "or a Wednesday."), "")
add(d, S(d, "Until 2023 each workshop bought", "asked on the day."), "")
add(d, S(d, "In that\nyear eleven workshops", "by the lorry."), "")
add(d, S(d, "The money for each lorry is collected", "and how much."), "FL")
add(d, S(d, "Several members said that the envelope", "go missing."), "FT")
add(d, S(d, "One younger weaver admitted", "out of habit\"."), "T")
add(d, S(d, "Most workshops still make the round laundry basket", "parents made."), "D")
add(d, S(d, "In 2025 Mrs Kozioł\npersuaded", "square corners."), "DL")
add(d, S(d, "The\ndrawings were paid for", "not been asked."), "FD")
add(d, S(d, "Buyers at\nthe Poznań fair", "anything else."), "")
add(d, S(d, "Nobody in the sample has a bank loan", "the workshop."), "F")
add(d, S(d, "The bank\nin Nisko asks", "cent in 2025."), "F")
add(d, S(d, "Willow is paid for from the money", "a smaller lorry."), "F")
add(d, S(d, "The\nlarger of the two firms pays", "part of the year."), "F")
add(d, S(d, "The municipality lends the association", "free of charge."), "G")
add(d, S(d, "In 2025 the county la-", "could apply."), "FG")
add(d, S(d, "Mr Zbigniew\nWróbel", "not for Rudnik."), "GL")
add(d, S(d, "The mayor has promised the\nweavers", "this promise before."), "TG")
add(d, S(d, "The buying group saves its members", "very few people."), "L")
add(d, S(d, "If Mrs Kozioł stepped down,", "envelope would stop."), "FL")
add(d, S(d, "Joint work on new\nshapes", "in a month."), "TD")

# ---------------------------------------------------------------- 02 interview
d = "02_interview_akhmim_weavers.txt"
add(d, TURN(d, "Thank you for seeing us again."), "L")
add(d, TURN(d, "It was my cousin Nabil."), "L")
add(d, TURN(d, "And how were you paid for that first order?"), "F")
add(d, TURN(d, "The hotel paid half before"), "FTL")
add(d, TURN(d, "Where did the money for the yarn come from?"), "F")
add(d, TURN(d, "Each of us put in what she had."), "F")
add(d, TURN(d, "Have you ever gone to a bank?"), "F")
add(d, TURN(d, "Once. The bank wanted a guarantor"), "F")
add(d, TURN(d, "There is also the agency for small projects"), "G")
add(d, TURN(d, "Yes, the agency office in Sohag."), "FG")
add(d, TURN(d, "Who draws the patterns?"), "D")
add(d, TURN(d, "The old ones, the birds and the palm trees"), "D")
add(d, TURN(d, "Do other workshops copy your new patterns?"), "TD")
add(d, TURN(d, "(laughs) Akhmim is small."), "TD")
add(d, TURN(d, "Sorry, the tea."), "F")
add(d, TURN(d, "Is that right? Do you keep a book?"), "F")
add(d, TURN(d, "In a school notebook."), "FT")
add(d, TURN(d, "What happens when someone stops paying?"), "F")
add(d, TURN(d, "Last year one woman took the pot"), "FTL")
add(d, TURN(d, "Is Nabil the chairman, on paper?"), "L")
add(d, TURN(d, "There is no chairman on paper."), "L")
add(d, TURN(d, "Is there anything the government should do for you?"), "G")
add(d, TURN(d, "Let them make the licence simple."), "G")
add(d, TURN(d, "And Father Boutros, does he help the group?"), "")
add(d, TURN(d, "He lets us use the hall,"), "")
add(d, TURN(d, "Thank you, that is all."), "")

# ---------------------------------------------------------------- 03 diary
d = "03_diary_ambalangoda_masks.txt"
add(d, S(d, "Arrived approx. 9 a.m.", "from Colombo."), "")
add(d, S(d, "Hot, no wind.", "Hot, no wind."), "")
add(d, S(d, "Mr. Jayasena's workshop, No. 4", "on the roadside."), "")
add(d, S(d, "Town known for masks", "since the 1800s)."), "")
add(d, S(d, "Mr. Jayasena = chairman", "shared paint store."), "L")
add(d, S(d, "Paints bought together in Colombo", "by the secretary."), "F")
add(d, S(d, "Two members still owe", "tin of lacquer."), "F")
add(d, S(d, "Back at No. 4 at approx. 10 for a long argument", "red, black and yellow."), "D")
add(d, S(d, "Mr. Jayasena against the pastel masks", "society followed."), "DL")
add(d, S(d, "New faces drawn on brown paper", "who drew it."), "D")
add(d, S(d, "\"So nobody can say later", "says Sunil."), "TD")
add(d, S(d, "Meeting broke up at 1 p.m.", "of the heat."), "")
add(d, S(d, "Lunch at the rest house", "Sunil paid."), "")
add(d, S(d, "Rain all morning.", "Rain all morning."), "")
add(d, S(d, "To the Divisional Secretariat", "cutting kaduru."), "GL")
add(d, S(d, "Officer polite but slow", "three weeks."), "G")
add(d, S(d, "Last year the Forest Department", "fined the owner."), "G")
add(d, S(d, "Nobody here trusts the timber man", "his thumb\")."), "T")
add(d, S(d, "Back by 4 p.m.", "4 p.m."), "")
add(d, S(d, "In the evening, the seettu", "the same lane."), "F")
add(d, S(d, "Eight women, each puts in", "takes the lot."), "F")
add(d, S(d, "Mrs. Kumari writes the names", "draw was fixed."), "FT")
add(d, S(d, "Nimal, youngest carver (23), learned", "not at school."), "")
add(d, S(d, "Carves in a very slow, careful fashion", "teases him about it."), "")
add(d, S(d, "Wants the society to take a bank loan", "electric lathe."), "F")
add(d, S(d, "Older members refuse", "in the house.\""), "F")
add(d, S(d, "Tourists fewer since the fuel crisis", "in February."), "")
add(d, S(d, "Left at 5 p.m.", "5 p.m."), "")
add(d, S(d, "Society meeting at Mr. Jayasena's", "14 members."), "")
add(d, S(d, "Secretary read out who had paid", "by the 31st."), "FT")
add(d, S(d, "Mr. Jayasena to ask the hotel shop", "pastel order."), "FL")

# ---------------------------------------------------------------- 04 markdown notes
d = "04_notes_rishtan_kiln.md"
add(d, S(d, "Rishtan has been known for", "for centuries."), "")
add(d, S(d, "Twelve family workshops on and around", "old bus depot."), "")
add(d, LINE(d, "The kiln was split into twelve equal shares"), "F")
add(d, LINE(d, "Three owners paid from their own savings."), "F")
add(d, LINE(d, "Two borrowed from Xalq Bank"), "F")
add(d, LINE(d, "One paid with money his son sends home"), "F")
add(d, LINE(d, "Gas is paid each month by the owners"), "F")
add(d, LINE(d, "We write the shelves in a notebook"), "FT")
add(d, LINE(d, "Usta Alisher Nazirov, the eldest master"), "L")
add(d, LINE(d, "When two owners want the same firing day"), "L")
add(d, LINE(d, "His style is quiet"), "L")
add(d, LINE(d, "Some of the younger owners say the best days"), "TL")
add(d, LINE(d, "Nobody has agreed to be treasurer"), "F")
add(d, LINE(d, "Alisher aka is the reason we are together."), "L")
add(d, LINE(d, "Most workshops still paint the old pomegranate"), "D")
add(d, LINE(d, "Two workshops have started plain white plates"), "D")
add(d, LINE(d, "The new line was drawn by Dilnoza"), "D")
add(d, LINE(d, "Brush work is learned by copying"), "")
add(d, LINE(d, "When I put a new plate in the shared kiln"), "TD")
add(d, LINE(d, "The khokimiyat (district administration)"), "G")
add(d, LINE(d, "The tax inspector now wants"), "G")
add(d, LINE(d, "A Ministry of Tourism programme pays half"), "FG")
add(d, LINE(d, "The application form was designed for bigger firms"), "FG")
add(d, LINE(d, "The khokim promised us a gas pipe"), "TG")
add(d, LINE(d, "Ask Alisher aka whether a deputy can chair"), "L")
add(d, LINE(d, "Find out whether the bank would take"), "F")

# ---------------------------------------------------------------- 05 minutes
d = "05_minutes_moshi_batik.txt"
add(d, LINE(d, "The Chairperson opened the meeting"), "L")
add(d, LINE(d, "The minutes of the February meeting"), "")
add(d, LINE(d, "The Treasurer reported that share purchases"), "F")
add(d, LINE(d, "Three loans are outstanding"), "F")
add(d, LINE(d, "Halima explained that a customer in Arusha"), "FT")
add(d, LINE(d, "Members agreed to give her one more month"), "FT")
add(d, LINE(d, "The box was opened in front of all members"), "FT")
add(d, LINE(d, "Treasurer to write to the customer in Arusha"), "F")
add(d, LINE(d, "The craft shop in Arusha wants table runners"), "D")
add(d, LINE(d, "Zawadi showed six sample pieces"), "D")
add(d, LINE(d, "Some members were unhappy that Zawadi sold"), "TD")
add(d, LINE(d, "It was agreed that new patterns stay in the workroom"), "TD")
add(d, LINE(d, "Mama Joyce to buy wax and dye"), "")
add(d, LINE(d, "The Community Development Officer of Moshi"), "FG")
add(d, LINE(d, "Registration needs a constitution"), "FG")
add(d, LINE(d, "Mama Asha reminded members"), "FTG")
add(d, LINE(d, "The Chairperson said that the group should apply anyway"), "FTGL")
add(d, LINE(d, "Secretary and Chairperson to visit"), "GL")
add(d, LINE(d, "Mrs Mushi said that she has chaired"), "L")
add(d, LINE(d, "Members asked her to stay for one more year."), "L")
add(d, LINE(d, "Zawadi was proposed as vice-chairperson."), "L")
add(d, LINE(d, "The pastor of the Lutheran church"), "")
add(d, LINE(d, "Mama Joyce will lead the singing"), "")
add(d, LINE(d, "The meeting closed at 4.40 p.m."), "")

# ---------------------------------------------------------------- 06 transcript
d = "06_transcript_sanjuan_weavers.txt"
add(d, LINE(d, "Thank you all for coming."), "F")
add(d, LINE(d, "Half came from the Ministry of Economy"), "FG")
add(d, LINE(d, "From our own pockets."), "F")
add(d, LINE(d, "And from the tamales."), "F")
add(d, LINE(d, "(laughs) So many tamales."), "F")
add(d, LINE(d, "And who keeps the accounts today?"), "F")
add(d, LINE(d, "Marta. Since Don Felipe left"), "F")
add(d, LINE(d, "Why did he stop keeping them"), "F")
add(d, LINE(d, "People said the numbers did not add up."), "FT")
add(d, LINE(d, "He gave back the book and the key"), "FT")
add(d, LINE(d, "Who runs the cooperative now?"), "L")
add(d, LINE(d, "Doña Rosa is the president."), "L")
add(d, LINE(d, "For now, for now."), "L")
add(d, LINE(d, "For twelve years it is"), "L")
add(d, LINE(d, "Somebody has to go up to the capital"), "GL")
add(d, LINE(d, "Let's talk about the designs."), "D")
add(d, LINE(d, "The old ones, the birds, the lake"), "D")
add(d, LINE(d, "The new ones come from a designer in Antigua"), "D")
add(d, LINE(d, "Avocado seed for the pinks"), "D")
add(d, LINE(d, "And do other groups copy them?"), "TD")
add(d, LINE(d, "Of course they do."), "TD")
add(d, LINE(d, "In San Pedro they sell our scarf"), "TD")
add(d, LINE(d, "Does the exporter pay on time?"), "FT")
add(d, LINE(d, "Sixty days, always sixty days"), "FT")
add(d, LINE(d, "And the municipality, does it help?"), "G")
add(d, LINE(d, "The mayor lends us the sports hall"), "G")
add(d, LINE(d, "The hall is designed for basketball"), "")
add(d, LINE(d, "And every new mayor promises us"), "TG")
add(d, LINE(d, "Last question: the bank."), "F")
add(d, LINE(d, "Banrural gave us a loan"), "F")
add(d, LINE(d, "If the rains let us."), "F")
add(d, LINE(d, "Thank you, that is all for today."), "")

# ---------------------------------------------------------------- 07 letter
d = "07_letter_horezu_potters.txt"
add(d, LINE(d, "We write on behalf of the 23 pottery workshops"), "G")
add(d, LINE(d, "Horezu pottery is known across Romania"), "")
add(d, LINE(d, "First, the shared wood-fired kiln"), "F")
add(d, LINE(d, "We applied in 2024 to the regional grant programme"), "FG")
add(d, LINE(d, "We therefore ask the County Council"), "FG")
add(d, LINE(d, "Second, the potters' fair held every June"), "G")
add(d, LINE(d, "We accuse no one;"), "TG")
add(d, LINE(d, "We ask that the list of places be published"), "TG")
add(d, LINE(d, "Third (and this is a smaller matter)"), "DG")
add(d, LINE(d, "Our secretary, Mrs Elena"), "FT")
add(d, LINE(d, "Our president, Mr Victor"), "GL")
add(d, LINE(d, "We are confident that the County Council"), "G")

# ---------------------------------------------------------------- 08 survey
d = "08_survey_takeo_silk.txt"
add(d, LINE(d, "Before, I sold my sarongs", True), "")
add(d, LINE(d, "The savings box.", True), "F")
add(d, LINE(d, "Mrs Sophal keeps us together.", True), "L")
add(d, LINE(d, "I learned new patterns with fewer colours", True), "D")
add(d, LINE(d, "nothing much changed for me", True), "")
add(d, LINE(d, "Before the group I did not trust", True), "T")
add(d, LINE(d, "The microfinance loan is still heavy", True), "F")
add(d, LINE(d, "The commune chief signed our paper", True), "G")
add(d, LINE(d, "We get the yarn cheaper", True), "")
add(d, LINE(d, "I am sure of myself now", True), "")
add(d, LINE(d, "The new designs from the designer in Phnom Penh", True), "D")
add(d, LINE(d, "Mrs Sophal decides too much alone.", True), "L")
add(d, LINE(d, "Our treasurer shows the book", True), "FT")
add(d, LINE(d, "The Ministry gave us one week", True), "G")
add(d, LINE(d, "People in the city pay attention", True), "")
add(d, LINE(d, "The shop pays only when the scarves are sold", True), "F")
add(d, LINE(d, "When the dye man cheated us", True), "T")
add(d, LINE(d, "We took an old pattern from a book", True), "D")
add(d, LINE(d, "The provincial Department of Industry", True), "G")
add(d, LINE(d, "Silk from this district has been famous", True), "")
add(d, LINE(d, "I want Mrs Sophal to stay as head.", True), "L")
add(d, LINE(d, "The tax office wants a licence fee", True), "G")
add(d, LINE(d, "We keep the new designs inside the group", True), "TD")
add(d, LINE(d, "Not so much. A loan from the group", True), "F")

class _Dumper(yaml.SafeDumper):
    pass

def _str(dumper, s):
    # multi-line quotes in double-quoted style, so "\n" is visible and exact
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style='"' if "\n" in s else None)

_Dumper.add_representer(str, _str)

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gold.yaml")
    body = yaml.dump(units, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write("# heldout-blind4 gold coding. Do not tune on this set. See README.md.\n")
        f.write(body)
    print(len(units), "units written")
