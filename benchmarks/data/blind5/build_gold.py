"""Writes gold.yaml. The codings are typed by hand below; the helpers only
copy the exact text of each unit out of the corpus files."""
import os, yaml
HERE = os.path.dirname(os.path.abspath(__file__))
C = os.path.join(HERE, 'corpus')
ORDER = ['finance', 'trust', 'design', 'government', 'leadership']
AB = {'F': 'finance', 'T': 'trust', 'D': 'design', 'G': 'government', 'L': 'leadership'}
_cache = {}
def txt(doc):
    if doc not in _cache:
        with open(os.path.join(C, doc), encoding='utf-8', newline='') as f:
            _cache[doc] = f.read()
    return _cache[doc]
units = []
def add(doc, quote, codes):
    th = sorted({AB[c] for c in codes.split()}, key=ORDER.index)
    units.append({'doc': doc, 'quote': quote, 'themes': th})
def S(doc, start, end, codes):
    """span from the unique start to the first end after it"""
    t = txt(doc); assert t.count(start) == 1, (doc, start)
    i = t.index(start); j = t.index(end, i) + len(end)
    add(doc, t[i:j], codes)
def W(doc, quote, codes):
    assert txt(doc).count(quote) == 1, (doc, quote); add(doc, quote, codes)
def LINE(doc, prefix, codes):
    t = txt(doc); k = t.count('\n' + prefix); assert k == 1, (doc, prefix, k)
    i = t.index('\n' + prefix) + 1; j = t.find('\n', i); j = len(t) if j < 0 else j
    add(doc, t[i:j], codes)
def TURN(doc, start, codes):
    """turn text from its start to the blank line (or end of file)"""
    t = txt(doc); assert t.count(start) == 1, (doc, start)
    i = t.index(start); j = t.find('\n\n', i)
    # a multi-paragraph turn goes on until the next speaker label
    while j >= 0 and not _is_label(t[j+2:]) and t[j+2:].strip():
        j = t.find('\n\n', j + 2)
    j = len(t) if j < 0 else j
    add(doc, t[i:j].rstrip(), codes)
import re
def _is_label(rest):
    return bool(re.match(r'(INTERVIEWER|MRS\. MUBIANA|Facilitator|P\d \([^)]*\)):|\[crosstalk\]', rest))

# ---------- 01 field notes: one line = one unit
d = '01_fieldnotes_katwe_metal.txt'
for p, c in [
 ('9.40 arrived', ''), ('smell of burning', ''), ('10.15 ssemanda', ''), ('he makes maize', ''),
 ('the big lathe', ''), ('they pay him 5,000', 'F'), ('asked if anyone cheats', 'F T'),
 ('the new hopper', 'D'), ('boys from the next shop', 'D'), ('ssemanda throws a sack', 'T D'),
 ('11.30 to the association', ''), ('katwe metal fabricators', 'F'), ('the chairman is mr kizito', 'L'),
 ('everybody says kizito', 'G L'), ('kcca (the city', 'G'), ('the notice is pinned', 'G'),
 ('kizito says they have heard', 'T G'), ('the savings box', 'F T'), ('each member puts in', 'F'),
 ('loans from the box', 'F'), ('the secretary, nakato', 'F T'), ('asked about the bank', 'F'),
 ('okello took a loan', 'F'), ('12.40 lunch', ''), ('afternoon slow', ''), ('okello welds', ''),
 ('he learned welding', ''), ('2.15 two people from uiri', 'G'), ('they promise a common', 'G'),
 ('members polite', 'T G'), ('one man said the last machine', 'T G'), ('could not check', ''),
 ('kizito afterwards', 'F G'), ('the association is collecting', 'F'), ('3.30 power cut', ''),
 ('4.00 power back', ''), ('two women selling', 'F'), ('the young ones say', 'G L'),
 ("kizito's answer", 'G L'), ('5.10 left', ''),
]:
    LINE(d, p, c)

# ---------- 02 subtitles: one sentence = one unit, quoted whole across cues
d = '02_subtitles_cotacachi_leather.srt'
S(d, 'Good evening, everyone', 'past seven.', '')
S(d, 'Don Ramiro asked me', 'in the airport.', 'L')
W(d, 'First, the money from the hotel order.', 'F')
S(d, 'The hotel in Otavalo paid', 'by Doña Mercedes.', 'F T')
S(d, 'Anyone who wants to count', 'come up and count it.', 'F T')
S(d, 'Second, the municipality', 'Inti Raymi fiesta.', 'G')
S(d, 'For that they want a permit', 'costs twelve dollars.', 'G')
W(d, 'Twelve dollars for one piece of paper!', 'G')
W(d, 'Now the bags.', '')
S(d, 'Everybody wants the new bag', 'in which colours.', 'D')
S(d, 'You remember that last year', 'on the same street.', 'T D')
S(d, 'We all said then', 'to each other again.', 'T D')
S(d, 'So I propose that every new model', 'before it goes on sale.', 'D')
S(d, 'That way, if somebody copies it', 'whose it was first.', 'T D')
W(d, 'Then the savings.', 'F')
S(d, 'This month the pot goes', 'in the draw in March.', 'F')
S(d, 'Marco is still three payments', 'and he knows it.', 'F')
S(d, 'I will pay all of it in May', 'paid in the end.', 'F T')
S(d, 'The savings cooperative in Otavalo', 'to sign as guarantors.', 'F')
W(d, 'Who is going to sign?', 'F')
S(d, 'Don Ramiro, as president', 'sign as treasurer.', 'F L')
S(d, 'The people from the Ministry', 'two Saturdays in June.', 'G')
S(d, 'The last time they came', 'fill the room.', 'G')
S(d, 'The course was designed for shoemakers', 'the same leather.', 'G')
S(d, 'Last thing: the football', 'not at ten.', '')
W(d, 'Thank you all, and good night.', '')

# ---------- 03 memo: one sentence = one unit; one bullet item = one unit
d = '03_memo_xangkhong_paper.md'
S(d, 'Nearly every household', 'village production group.', '')
S(d, 'The bark comes down', 'on her floor).', 'T')
S(d, 'Since the group started buying', "the group's bark.", 'T')
S(d, 'This looks like what the literature', 'made fools of".', 'T')
S(d, "The group's money is kept", 'opened only last year.', 'F')
S(d, 'Members pay 20,000 kip', 'back into the box.', 'F')
S(d, 'Loans from the bank itself', 'have the papers).', 'F')
S(d, 'I am told the box', 'in front of everyone.', 'F T')
S(d, 'Her own words', 'under my bed."', 'F')
S(d, 'It was Mrs. Bounmy who first', 'the group accepts.', 'L')
S(d, 'When a French buyer', 'should look like.', 'D L')
S(d, 'Several younger members', 'in the province).', 'L')
S(d, 'The abbot of the village', "the group's business.", '')
S(d, 'the new designs: pressed', 'the handicraft school', 'D')
S(d, 'whether the district office', 'the night market', 'G')
S(d, 'the rules of the box', 'household money', 'F')
S(d, 'the story, told twice', 'box money in 2019', 'F T')
S(d, 'The district office matters', 'first thought.', 'G')
S(d, 'Registration with the district', 'the group exists.', 'F G')
S(d, 'Nobody in the village could tell', '(it seems not).', 'F G')
S(d, 'Luang Prabang is known', 'money to the shops.', '')

# ---------- 04 interview: one turn = one unit
d = '04_interview_mongu_baskets.txt'
for s_, c in [
 ('Thank you for seeing me.', ''), ('It started with my late', 'L'), ('And you yourself?', ''),
 ('Me, I keep the money.', 'F T'), ('Has money ever gone missing?', 'F T'), ('Not with us.', 'F T'),
 ('How do you decide what to weave?', 'D'), ('The old patterns we know', 'F D'),
 ('Do women outside the cooperative', 'T D'), ('Of course. [laughs]', 'T D'),
 ('Do the members save together?', 'F'), ('We have a chilimba.', 'F'), ('And the bank?', 'F'),
 ('We tried.', 'F G'), ('How did you get the money', 'F G'), ('Mrs. Nawa went to the council', 'F G L'),
 ('Is there anything the council', 'G'), ('The levy.', 'G'), ('Are you sure the cooperative', ''),
 ('I am sure of myself', ''), ('Thank you.\n', ''), ('[laughs] Greet your mother.', ''),
]:
    TURN(d, s_, c)

# ---------- 05 report: sentences; one bullet item (with its wrapped line) = one unit
d = '05_report_sanjuan_pottery.txt'
S(d, "The two potters' cooperatives", 'in February.', '')
S(d, 'About ninety workshops', 'one or two kilns.', '')
S(d, 'Doña Esperanza Jiménez, who founded', 'for one year.', 'L')
S(d, 'She has insisted', 'also come.', 'L')
S(d, 'Both cooperatives run savings', 'times her savings.', 'F')
W(d, 'The main results of the period were:', '')
S(d, '44 members now save', 'more than two weeks.', 'F')
S(d, 'The first loans from the group fund', 'the Christmas orders.', 'F')
S(d, 'One member of Nuevo Amanecer', 'to Costa Rica.', 'F T')
S(d, 'The cash box is opened', 'read aloud.', 'F T')
W(d, 'Bank credit remains out of reach for most households.', 'F')
S(d, 'The microfinance institution', 'owing money to anyone.', 'F')
S(d, 'A ceramics teacher from Granada', 'the tourist market.', 'D')
S(d, 'The potters now make', 'three earth colours.', 'D')
S(d, 'Some of the older potters', 'shown to everybody.', 'T D')
S(d, 'Sales at the fair in Managua', 'compared with last year.', '')
S(d, 'San Juan is still the market leader', 'are cheaper.', '')
S(d, 'INATEC, the national', 'for twelve potters.', 'G')
S(d, "The mayor's office has promised", 'promise in writing.', 'T G')
S(d, 'The regulations on lead', 'no reply has come yet.', 'G')
S(d, 'The joint committee depends', 'to take her place.', 'L')
S(d, 'Rumours that committee members', 'cooperatives again.', 'T')
S(d, 'Firewood is becoming scarce', 'prices for the bowls.', '')

# ---------- 06 e-mail: sentences of the reply and of the forwarded message
d = '06_email_nabeul_potters.txt'
S(d, "I am forwarding Hichem's", 'meets on Thursday.', '')
S(d, 'Most of what he says', 'in the workshops.', '')
S(d, 'The consortium has paid back', 'the money being lost.', 'F')
S(d, 'It is a question of whether', 'harder to fix.', 'F T')
S(d, 'I would suggest we pay', 'not only to the board.', 'F T L')
S(d, 'I have not yet spoken', 'the export fair.', 'G')
S(d, 'I will call the regional office', 'on Monday.', 'G')
S(d, 'Sorry to write so late', 'tourists all day.', '')
S(d, 'Three of the workshops from Dar Chaabane', 'consortium in June.', '')
S(d, 'They say they pay for the gas', 'that go in first.', 'F T')
S(d, 'Some of them even say', 'his own workshop.', 'F T')
S(d, 'I do not believe that', 'kept at his house.', 'F T')
S(d, 'The real problem is that', 'to take it on.', 'L')
S(d, 'He started the consortium', 'coming to the meetings.', 'L')
S(d, 'On the positive side', 'the whole series.', 'D')
S(d, 'The young designer from the school', 'reached the market.', 'D T')
S(d, 'About the fair in Lyon', 'of every member.', 'F G')
S(d, 'Two members have never declared', 'in their lives!', 'G')
W(d, 'Can you come on Saturday?', '')
S(d, 'We will have couscous', 'she insists.', '')

# ---------- 07 focus group: one turn = one unit
d = '07_focusgroup_ambositra_wood.txt'
for s_, c in [
 ("Let's start with something easy.", ''), ('For the rosewood.', ''), ('And for the saw.', 'F'),
 ('Who decides who gets', 'L'), ('Rakoto.\n', 'L'), ('Rakoto, yes.', 'L'),
 ('Rakotondrabe, the president.', 'L'), ('And people accept that?', 'T L'),
 ('Mostly. He is fair.', 'T L'), ('Mostly. [laughs]', 'T L'), ('That was one time!', 'T L'),
 ('One time that we saw.', 'T L'), ("Let's talk about money.", 'F'), ('From the tontine, first.', 'F'),
 ('The bank in Fianarantsoa', 'F'), ('Sometimes the hotel pays', 'F'),
 ('What kind of things do you make now?', 'D'), ('Before, only the marquetry', 'D'),
 ('Now I make the chess boards', 'D'), ('And then next week the same lemur', 'T D'),
 ('Exactly, exactly.', 'T D'), ('So people copy each other?', 'D'), ('All the time.', 'T D'),
 ('What about the government?', 'G'), ('The forestry office.', 'G'),
 ('And the commune promised', 'T G'), ('Yes.\n', 'T G'), ('The Ministry gave us two new lathes', 'G L'),
 ('If Rakotondrabe stopped tomorrow', 'L'), ('It would finish.', 'L'), ('No, no.', 'L'),
 ('Maybe that is not bad.', 'L'), ('Last question.', ''), ('Rain at the right time.', ''),
 ('A container to Réunion.', ''), ('Thank you all. Misaotra.', ''),
]:
    TURN(d, s_, c)

# ---------- 08 phone notes: sentences; one bullet item = one unit
d = '08_unicode_kharkhorin_felt.txt'
S(d, 'Bus from UB', 'last 60\u00a0km.', '')
S(d, 'Met Oyuntsetseg', 'laughs a lot.', 'L')
S(d, 'She started the group in 2015', 'now 23 women.', 'L')
S(d, 'They make felt slippers', 'the tourist camps.', '')
S(d, 'Wool comes from her cousin', 'the summer sales.', 'F')
S(d, '“Nobody writes anything down', 'word is the paper.”', 'T')
S(d, 'Whole day in the ger workshop', 'horse-hair mat.', '')
S(d, 'the cooperative’s money is in', 'Bat-Ölzii’s', 'F')
S(d, 'they got a 12', 'money with a smile”', 'F G')
S(d, 'repayments are on time', 'receipts on her phone', 'F')
S(d, 'the soum governor’s office', 'took four months', 'G')
S(d, 'Enkhjargal (Энхжаргал) told me', 'kept the money.', 'F T')
S(d, 'She left, and nobody', 'any more.', 'T')
S(d, 'Since then every pair', 'never one.', 'T')
S(d, 'New designs today', '“ulzii” knot.', 'D')
S(d, 'The older women were not sure', 'straight away.', 'D')
S(d, 'Oyuntsetseg says she will decide', 'colours to keep.', 'D L')
S(d, 'Lunch at Tsetsegmaa', 'let me pay.', '')
S(d, 'In the afternoon the lama', 'carding machine.', '')
S(d, 'Tsetsegmaa said, laughing', 'back to her rolling.', '')
S(d, 'The shop at the tourist camp sells', 'a week later.', 'F')
S(d, 'Nobody complains about the shop', 'missed a week.', 'F T')
S(d, 'Snow on the hills', '°C.', '')
S(d, 'Bat-Ölzii keeps the books', 'colours of pen.', 'F')
S(d, 'The tax inspector', 'stayed for tea.', 'G')
S(d, 'Long talk with Oyuntsetseg', 'knows everything.”', 'L')
W(d, 'Bus back at 16:00.', '')

class Q(str): pass
def _q(dumper, data):
    style = '"' if ('\n' in data or '\u00a0' in data) else None
    return dumper.represent_scalar('tag:yaml.org,2002:str', str(data), style=style)
yaml.SafeDumper.add_representer(Q, _q)
for u in units: u['quote'] = Q(u['quote'])
with open(os.path.join(HERE, 'gold.yaml'), 'w', encoding='utf-8', newline='') as f:
    f.write('# heldout-blind5 gold coding: do not tune on this set (see README.md)\n')
    f.write(yaml.safe_dump(units, allow_unicode=True, sort_keys=False, width=100000, default_flow_style=False))
print(len(units), 'units written')
