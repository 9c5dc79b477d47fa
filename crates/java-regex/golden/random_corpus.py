#!/usr/bin/env python3
"""Random corpora for differential testing of crates/java-regex against real Java.

    crates/java-regex/golden/random_corpus.py MODE SEED COUNT > /tmp/c.txt
    crates/java-regex/golden/generate.sh /tmp/c.txt /tmp/golden.json
    JREGEX_GOLDEN=/tmp/golden.json cargo test --lib jregex -- --ignored --nocapture

MODE: structured (random well-formed patterns: groups, lookaround, quantifiers, flags,
back references), soup (random strings of regex metacharacters: parser and error paths),
unicode (every property/class under each flag against random code points, case folding).
The output is in corpus.txt's format. Nothing here is committed as goldens: the committed
corpus stays hand-written and readable.
"""
import random
import sys

def esc(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '\\': out.append('\\\\')
        elif ch == ' ': out.append('\\s')
        elif ch == '\t': out.append('\\t')
        elif ch == '\n': out.append('\\n')
        elif ch == '\r': out.append('\\r')
        elif ch == '\0': out.append('\\0')
        elif o < 0x20 or o > 0x7e: out.append('\\U{%X}' % o)
        else: out.append(ch)
    return ''.join(out)

ATOMS = ['a', 'b', 'c', '.', '\\w', '\\d', '\\s', '\\W', '[ab]', '[^a]', '[a-c]', '\\b', '\\B', '^', '$',
         '\\R', '\\n', 'x', '\\.', '[a-c&&[^b]]', '(?i:a)', '\\p{L}', '\\X', '\\z', '\\Z', '\\G', '\\A', 'ab',
         'A', '[\\n]', '(?m)', '(?s)', '(?i)', '(?-i)', '\\S', '[^\\n]', '\\h', '\\v', '[a\\d]', '\\Qa.\\E',
         '\u00e9', '(?d)', '\\1', '\\2']
QUANTS = ['*', '+', '?', '{0,2}', '{1}', '{2,}', '{1,3}', '{0}', '{2}']

def structured(depth, st):
    out = []
    for _ in range(random.randint(1, 4)):
        if depth < 3 and random.random() < 0.3:
            kind = random.choice(['(', '(', '(?:', '(?>', '(?=', '(?!', '(?<=', '(?<!', '(?<n%d>' % st['n']])
            if kind.startswith('(?<n'):
                st['n'] += 1
            inner = structured(depth + 1, st)
            while random.random() < 0.35:
                inner += '|' + (structured(depth + 1, st) if random.random() < 0.8 else '')
            out.append(kind + inner + ')')
        else:
            out.append(random.choice(ATOMS))
        if random.random() < 0.35:
            out[-1] += random.choice(QUANTS) + random.choice(['', '', '?', '+'])
    return ''.join(out)

SOUP = list('\\\\\\()[]{}^$.|?*+-&,0123abpPQEk<>=!:ix# nuUcdswRXbBGzZAhvN') + ['\u00e9', '\t', '\n', '\0', '\r', '\u0085']
INPUT_CHARS = ['a', 'a', 'b', 'c', 'x', '\n', '.', 'A', ' ', '\r', '\u00e9', '_', '1', '&', '{', '-']

def random_input():
    return ''.join(random.choice(INPUT_CHARS) for _ in range(random.randint(0, 7)))

PREDICATES = ['\\w', '\\d', '\\s', '\\h', '\\v', '.', '\\X'] + ['\\p{%s}' % n for n in (
    'L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Co Cn LC LD L1 '
    'Lower Upper Alpha Alnum Punct Graph Print Blank Cntrl XDigit Space javaLowerCase javaUpperCase javaAlphabetic '
    'javaIdeographic javaTitleCase javaDigit javaDefined javaLetter javaLetterOrDigit javaJavaIdentifierStart '
    'javaJavaIdentifierPart javaUnicodeIdentifierStart javaUnicodeIdentifierPart javaIdentifierIgnorable '
    'javaSpaceChar javaWhitespace javaISOControl javaMirrored IsAlphabetic IsIdeographic IsLetter IsLowercase '
    'IsUppercase IsTitlecase IsPunctuation IsControl IsWhite_Space IsDigit IsHex_Digit IsJoin_Control '
    'IsNoncharacter_Code_Point IsAssigned IsWord IsLatin IsGreek IsCyrillic IsHan IsArabic IsCommon IsInherited '
    'IsHiragana IsDeva InBasic_Latin InLatin_1_Supplement InGreek InCyrillic InArrows InEmoticons '
    'InCJK_Unified_Ideographs InHangul_Syllables InPrivate_Use_Area InSpecials').split()] + [
    '[a-z]', '[A-Z]', '[\\u00c0-\\u00ff]', '[\\u0370-\\u03ff]', '[k]', '[s]', '[\\u00b5]', '[\\u00ff]']
CODE_RANGES = [(0, 0x2ff), (0x300, 0x36f), (0x370, 0x52f), (0x590, 0x6ff), (0x900, 0x97f), (0x1100, 0x11ff),
               (0x1e00, 0x1fff), (0x2000, 0x2bff), (0x3000, 0x30ff), (0x4e00, 0x4e80), (0xa640, 0xa7ff),
               (0xac00, 0xac40), (0xe000, 0xe010), (0xfb00, 0xfffd), (0x10000, 0x104ff), (0x1d400, 0x1d7ff),
               (0x1f000, 0x1faff), (0xe0000, 0xe01ef)]

def code_point():
    while True:
        a, b = random.choice(CODE_RANGES)
        c = random.randint(a, b)
        if not 0xd800 <= c <= 0xdfff:
            return chr(c)

def main():
    mode, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    random.seed(seed)
    print('# random corpus: %s seed %d' % (mode, seed))
    if mode == 'unicode':
        for p in PREDICATES:
            for f in ['', '(?i)', '(?iu)', '(?U)', '(?iU)']:
                print('P ' + esc(f + p))
                for _ in range(count):
                    print('m ' + esc(code_point()))
        for _ in range(count * 4):
            c = code_point()
            for f in ['(?i)', '(?iu)']:
                print('P ' + esc(f) + '\\\\x{%X}' % ord(c))
                for d in [c] + [code_point() for _ in range(3)]:
                    print('m ' + esc(d))
        return
    seen = set()
    while len(seen) < count:
        if mode == 'structured':
            p = structured(0, {'n': 0})
        else:
            p = ''.join(random.choice(SOUP) for _ in range(random.randint(1, 12)))
            if random.random() < 0.4:
                p = random.choice(['(?x)', '(?ix)', '(?xd)', '(?U)', '(?iu)']) + p
        if p in seen:
            continue
        seen.add(p)
        print('P ' + esc(p))
        for _ in range(8):
            print('m ' + esc(random_input()))
        for _ in range(2):
            print('f ' + esc(random_input()))
        print('R <$0>')
        print('R $1')

main()
