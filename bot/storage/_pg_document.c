/* The PostgreSQL search document of a paper's folded words, each lexeme once with all its
 * positions: what bot.storage.pg_document.merged_document builds in Python, for about a tenth of
 * its cost (docs/performance.md, "Ninth session: PostgreSQL ingest (search document)").
 * tests/storage/test_pg_document.py holds the two to the same text for any columns.
 *
 * document(title, abstract, authors): the title a list of words, the others each a list of words
 * or an ASCII text split as bot.domain.text.words splits one (letters and digits, lower-cased).
 * Returns the tsvector text, or None where the merged form needs what this does not do (an empty
 * word, a quote or a backslash to escape, a zero byte, a position past 16383, a text that is not
 * ASCII, a vector past tsvector's 1,048,575 bytes): the caller then builds the document in Python. vector(...) takes the same and returns
 * the same vector as tsvectorsend's bytes, for COPY's binary format.
 *
 * vectors(papers, tally) also counts, for each paper, each distinct word of its title or abstract
 * once into the Tally (term_docs: papers holding a word), from the words it splits and sorts for
 * the vector anyway, without the GIL: what bot.storage.word_counts.batch_word_counts counts on a
 * thread of its own with SQLite (docs/performance.md, "Twelfth session"). Every word is counted,
 * those the vector leaves out too (past 2046 bytes, past position 16383, a vector past its size).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* tsvector's limits: positions stop at 16383, a lexeme holds at most 2046 bytes (longer ones are
 * left out, their positions counted) and keeps its first 256 positions. */
#define MAX_POSITION 16383
#define MAX_LEXEME_BYTES 2046
#define MAX_POSITIONS 256
/* A vector holds at most 1,048,575 bytes of lexemes and positions (MAXSTRPOS). Past it the server
 * leaves out lexemes (migration 0042's paperbot_document): this returns None for it to build. */
#define MAX_VECTOR_BYTES 1048575
/* SQLite's FTS5 keeps a token's first 32768 bytes (FTS5_MAX_TOKEN_SIZE): the word counts made
 * there count a longer word by them, and so does the tally. */
#define MAX_COUNTED_BYTES 32768

typedef struct {
    uint64_t prefix; /* the first 8 bytes, big-endian, zero-padded: most orders are decided here */
    const char *text;
    Py_ssize_t size;
    int position;
    char weight;
} Token;

/* Each byte of ASCII text as a word's byte (a letter lower-cased, a digit), or 0 between words. */
static unsigned char word_byte[256];

static void
fill_word_bytes(void)
{
    for (int c = '0'; c <= '9'; c++)
        word_byte[c] = (unsigned char)c;
    for (int c = 'a'; c <= 'z'; c++)
        word_byte[c] = word_byte[c - 'a' + 'A'] = (unsigned char)c;
}

static Token
token(const char *text, Py_ssize_t size, int position, char weight)
{
    uint64_t prefix = 0;
    for (int i = 0; i < 8; i++)
        prefix = (prefix << 8) | (i < size ? (unsigned char)text[i] : 0);
    return (Token){prefix, text, size, position, weight};
}

/* The server's order of lexemes (bytes, then the shorter first), then by position. */
static inline int
before(const Token *a, const Token *b)
{
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix;
    Py_ssize_t shorter = a->size < b->size ? a->size : b->size;
    if (shorter > 8) {
        int order = memcmp(a->text + 8, b->text + 8, (size_t)(shorter - 8));
        if (order != 0)
            return order < 0;
    }
    if (a->size != b->size)
        return a->size < b->size;
    return a->position < b->position;
}

/* A merge sort with the comparison inlined: the C library's qsort, calling a comparison function
 * for each of a paper's ~1,200 comparisons, cost more than everything else here together. */
static void
sort_tokens(Token *tokens, Token *spare, Py_ssize_t count)
{
    if (count < 16) {
        for (Py_ssize_t i = 1; i < count; i++) {
            Token moving = tokens[i];
            Py_ssize_t j = i;
            for (; j > 0 && before(&moving, &tokens[j - 1]); j--)
                tokens[j] = tokens[j - 1];
            tokens[j] = moving;
        }
        return;
    }
    Py_ssize_t half = count / 2;
    sort_tokens(tokens, spare, half);
    sort_tokens(tokens + half, spare, count - half);
    if (!before(&tokens[half], &tokens[half - 1]))
        return;
    memcpy(spare, tokens, sizeof(Token) * (size_t)half);
    Py_ssize_t left = 0, right = half, out = 0;
    while (left < half && right < count)
        tokens[out++] = before(&tokens[right], &spare[left]) ? tokens[right++] : spare[left++];
    while (left < half)
        tokens[out++] = spare[left++];
}

/* One paper's document in three steps: ``gather`` its tokens (with the GIL: it reads the words'
 * UTF-8), ``make`` the sorted lexemes' bytes (plain C, no Python object touched: ``vectors`` runs
 * it without the GIL), ``finish`` them into the result. Every buffer is PyMem_RawMalloc's.
 * The tokens of words past MAX_LEXEME_BYTES (left out of the vector, counted in the tally) are
 * kept at the back of ``tokens``, ``spilled`` of them down from ``room``. */
typedef struct {
    Token *tokens;
    Py_ssize_t count;
    Py_ssize_t room;
    Py_ssize_t spilled;
    int read; /* the columns whose words were all read: the title and abstract's counted at 2 */
    char *lowered[3];
    char *caret;
    int state; /* 1: to make, 0: None (the Python builder's to build), -1: an error is set */
    int no_memory;
    char *out;
    Py_ssize_t size;
} Job;

static void
keep(Job *job, Token word)
{
    if (word.size > MAX_LEXEME_BYTES)
        job->tokens[job->room - ++job->spilled] = word;
    else
        job->tokens[job->count++] = word;
}

/* Each add_* returns 1 (the column's words read, *length set to their number), 0 (a text that is
 * not ASCII: Python's to split) or -1 (an error is set). What keeps this from building the vector
 * (an empty word, a quote, a backslash or a zero byte to escape, a position past 16383) sets
 * *unbuildable, and the words are read on all the same: the tally counts them. */
static int
add_words(PyObject *words, Job *job, int first, char weight, Py_ssize_t *length, int *unbuildable)
{
    Py_ssize_t number = PySequence_Fast_GET_SIZE(words);
    if (number > 0 && first + number - 1 > MAX_POSITION)
        *unbuildable = 1;
    for (Py_ssize_t i = 0; i < number; i++) {
        PyObject *word = PySequence_Fast_GET_ITEM(words, i);
        if (!PyUnicode_Check(word)) {
            PyErr_SetString(PyExc_TypeError, "words must be str");
            return -1;
        }
        Py_ssize_t size;
        const char *text = PyUnicode_AsUTF8AndSize(word, &size);
        if (text == NULL)
            return -1;
        if (size == 0) { /* no word to count either */
            *unbuildable = 1;
            continue;
        }
        if (memchr(text, '\'', (size_t)size) || memchr(text, '\\', (size_t)size) || memchr(text, 0, (size_t)size))
            *unbuildable = 1;
        keep(job, token(text, size, first + (int)i, weight));
    }
    *length = number;
    return 1;
}

static int
add_ascii_text(PyObject *text, char **lowered_out, Job *job, int first, char weight, Py_ssize_t *length,
               int *unbuildable)
{
    if (!PyUnicode_IS_ASCII(text))
        return 0;
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    const unsigned char *source = PyUnicode_1BYTE_DATA(text);
    char *lowered = PyMem_RawMalloc((size_t)size + 1);
    if (lowered == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *lowered_out = lowered;
    for (Py_ssize_t i = 0; i < size; i++)
        lowered[i] = (char)word_byte[source[i]];
    lowered[size] = 0; /* ends the last word */
    Py_ssize_t number = 0;
    Py_ssize_t at = 0;
    for (;;) {
        while (at < size && lowered[at] == 0)
            at++;
        if (at == size)
            break;
        Py_ssize_t start = at;
        while (lowered[at] != 0)
            at++;
        int position = first + (int)number;
        if (position > MAX_POSITION)
            *unbuildable = 1;
        keep(job, token(lowered + start, at - start, position, weight));
        number++;
    }
    *length = number;
    return 1;
}

static Py_ssize_t
bound(PyObject *value)
{
    /* The tokens a column can give: a word each, or a word every two characters of a text. */
    if (PyList_Check(value) || PyTuple_Check(value))
        return PySequence_Fast_GET_SIZE(value);
    if (PyUnicode_Check(value))
        return PyUnicode_GET_LENGTH(value) / 2 + 1;
    return 0;
}

static char *
put_position(char *at, int position, char weight)
{
    /* The position (1..16383) in decimal, then its weight: a formatted print cost more than the
     * rest of the writing. */
    char digits[5];
    int n = 0;
    do {
        digits[n++] = (char)('0' + position % 10);
        position /= 10;
    } while (position > 0);
    while (n > 0)
        *at++ = digits[--n];
    *at++ = weight;
    return at;
}

/* The tsvector text of the sorted tokens in a new buffer (PyMem_RawMalloc: made without the GIL),
 * its length in *size; NULL where memory ran out. */
static char *
written(const Token *tokens, Py_ssize_t count, Py_ssize_t *size)
{
    size_t capacity = 1;
    for (Py_ssize_t i = 0; i < count; i++)
        capacity += (size_t)tokens[i].size + 12; /* quotes, colon, space, comma, 5 digits, weight */
    char *out = PyMem_RawMalloc(capacity);
    if (out == NULL)
        return NULL;
    char *at = out;
    Py_ssize_t i = 0;
    while (i < count) {
        const Token *word = &tokens[i];
        if (at != out)
            *at++ = ' ';
        *at++ = '\'';
        memcpy(at, word->text, (size_t)word->size);
        at += word->size;
        *at++ = '\'';
        *at++ = ':';
        int kept = 0;
        for (; i < count && tokens[i].size == word->size &&
               memcmp(tokens[i].text, word->text, (size_t)word->size) == 0;
             i++) {
            if (kept == MAX_POSITIONS)
                continue;
            if (kept++)
                *at++ = ',';
            at = put_position(at, tokens[i].position, tokens[i].weight);
        }
    }
    *size = at - out;
    return out;
}

static char *
put_uint16(char *at, unsigned value)
{
    *at++ = (char)(value >> 8);
    *at++ = (char)(value & 0xff);
    return at;
}

/* The vector as tsvectorsend writes it (tsvectorrecv reads it without parsing a word): the
 * number of lexemes, then each lexeme, a zero byte, its number of positions and each position as
 * weight << 14 | position (A 3, B 2, C 1), big-endian. In a new buffer as ``written``'s. */
static char *
sent(const Token *tokens, Py_ssize_t count, Py_ssize_t *size)
{
    size_t capacity = 4;
    for (Py_ssize_t i = 0; i < count; i++)
        capacity += (size_t)tokens[i].size + 5;
    char *out = PyMem_RawMalloc(capacity);
    if (out == NULL)
        return NULL;
    char *at = out + 4;
    uint32_t lexemes = 0;
    Py_ssize_t i = 0;
    while (i < count) {
        const Token *word = &tokens[i];
        lexemes++;
        memcpy(at, word->text, (size_t)word->size);
        at += word->size;
        *at++ = 0;
        char *number = at;
        at += 2;
        unsigned kept = 0;
        for (; i < count && tokens[i].size == word->size &&
               memcmp(tokens[i].text, word->text, (size_t)word->size) == 0;
             i++) {
            if (kept == MAX_POSITIONS)
                continue;
            kept++;
            unsigned weight = (unsigned)('D' - tokens[i].weight);
            at = put_uint16(at, weight << 14 | (unsigned)tokens[i].position);
        }
        put_uint16(number, kept);
    }
    out[0] = (char)(lexemes >> 24);
    out[1] = (char)(lexemes >> 16);
    out[2] = (char)(lexemes >> 8);
    out[3] = (char)lexemes;
    *size = at - out;
    return out;
}

/* Whether the sorted tokens' vector is within MAX_VECTOR_BYTES, each lexeme counted as its bytes,
 * an alignment byte, its count of positions and its positions (at most 256): the bound
 * pg_document.lexeme_cost and paperbot_document count. */
static int
fits(const Token *tokens, Py_ssize_t count)
{
    size_t total = 0;
    Py_ssize_t i = 0;
    while (i < count) {
        const Token *word = &tokens[i];
        size_t positions = 0;
        for (; i < count && tokens[i].size == word->size &&
               memcmp(tokens[i].text, word->text, (size_t)word->size) == 0;
             i++)
            positions++;
        total += (size_t)word->size + 3 + 2 * (positions < MAX_POSITIONS ? positions : MAX_POSITIONS);
        if (total > MAX_VECTOR_BYTES)
            return 0;
    }
    return 1;
}

static void
release(Job *job)
{
    for (int c = 0; c < 3; c++)
        PyMem_RawFree(job->lowered[c]);
    PyMem_RawFree(job->caret);
    PyMem_RawFree(job->tokens);
    PyMem_RawFree(job->out);
    memset(job, 0, sizeof(Job));
}

/* The columns' tokens: returns job->state. The tokens point into the columns' words (their UTF-8,
 * kept by the str objects) and the job's own buffers: the columns must outlive the job. */
static int
gather(PyObject *const *args, Job *job)
{
    memset(job, 0, sizeof(Job));
    job->state = -1;
    if (!PyList_Check(args[0]) && !PyTuple_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "(title words, abstract, authors)");
        return -1;
    }
    for (int c = 1; c < 3; c++) {
        if (!PyList_Check(args[c]) && !PyTuple_Check(args[c]) && !PyUnicode_Check(args[c])) {
            PyErr_SetString(PyExc_TypeError, "a column is a list of words or an ASCII text");
            return -1;
        }
    }
    /* Room for every word and the title's first once more, as '^word'. */
    job->room = bound(args[0]) + bound(args[1]) + bound(args[2]) + 1;
    job->tokens = PyMem_RawMalloc(sizeof(Token) * (size_t)job->room);
    if (job->tokens == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int first = 1;
    int unbuildable = 0;
    for (int c = 0; c < 3; c++) {
        Py_ssize_t length = 0;
        int read;
        if (PyUnicode_Check(args[c]))
            read = add_ascii_text(args[c], &job->lowered[c], job, first, "ABC"[c], &length, &unbuildable);
        else
            read = add_words(args[c], job, first, "ABC"[c], &length, &unbuildable);
        if (read == -1)
            return -1;
        if (read == 0) {
            unbuildable = 1;
            break;
        }
        job->read = c + 1;
        if (c == 0 && length > 0) {
            /* The title's first word once more as '^word' (its own length rule applies). */
            Py_ssize_t size;
            const char *text = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(args[0], 0), &size);
            if (size + 1 <= MAX_LEXEME_BYTES) {
                job->caret = PyMem_RawMalloc((size_t)size + 1);
                if (job->caret == NULL) {
                    PyErr_NoMemory();
                    return -1;
                }
                job->caret[0] = '^';
                memcpy(job->caret + 1, text, (size_t)size);
                job->tokens[job->count++] = token(job->caret, size + 1, 1, 'A');
            }
        }
        first += (int)length + 1;
    }
    job->state = unbuildable ? 0 : 1;
    return job->state;
}

/* Sorts the tokens (and, ``tallying``, the words past MAX_LEXEME_BYTES), then builds the vector
 * where it can. Touches no Python object and takes no Python lock: safe without the GIL. */
static void
make(Job *job, int binary, int tallying)
{
    tallying = tallying && job->read >= 2;
    if (job->state == -1 || (job->state == 0 && !tallying))
        return;
    Py_ssize_t most = job->count > job->spilled ? job->count : job->spilled;
    Token *spare = PyMem_RawMalloc(sizeof(Token) * (size_t)(most / 2 + 1));
    if (spare == NULL) {
        job->no_memory = 1;
        return;
    }
    sort_tokens(job->tokens, spare, job->count);
    if (tallying)
        sort_tokens(job->tokens + job->room - job->spilled, spare, job->spilled);
    PyMem_RawFree(spare);
    if (job->state == 0)
        return;
    if (!fits(job->tokens, job->count)) {
        job->state = 0;
        return;
    }
    job->out = binary ? sent(job->tokens, job->count, &job->size) : written(job->tokens, job->count, &job->size);
    if (job->out == NULL)
        job->no_memory = 1;
}

static PyObject *
finish(Job *job, int binary)
{
    PyObject *result = NULL;
    if (job->state == -1)
        result = NULL; /* the error gather set */
    else if (job->no_memory)
        PyErr_NoMemory();
    else if (job->state == 0)
        result = Py_NewRef(Py_None);
    else if (binary)
        result = PyBytes_FromStringAndSize(job->out, job->size);
    else
        result = PyUnicode_DecodeUTF8(job->out, job->size, "strict");
    release(job);
    return result;
}

static PyObject *
built(PyObject *const *args, Py_ssize_t nargs, int binary)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "(title words, abstract, authors)");
        return NULL;
    }
    Job job;
    if (gather(args, &job) == 1)
        make(&job, binary, 0);
    return finish(&job, binary);
}

static PyObject *
document(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    return built(args, nargs, 0);
}

static PyObject *
vector(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    return built(args, nargs, 1);
}

/* The word tally: papers holding each word, in a hash table of open addressing. ``vectors`` adds
 * to it without the GIL from whichever thread builds a block (the caller's first block and the
 * worker's next ones at once), so it has a lock of its own; ``take`` reads it out. */
typedef struct {
    uint64_t hash;
    char *text; /* NULL: an empty slot */
    Py_ssize_t size;
    Py_ssize_t papers;
} Entry;

typedef struct {
    PyObject_HEAD
    PyThread_type_lock lock;
    Entry *entries;
    size_t capacity; /* a power of two, or 0 */
    size_t used;
} Tally;

static PyTypeObject TallyType;

static uint64_t
hashed(const char *text, Py_ssize_t size)
{
    uint64_t hash = 14695981039346656037u; /* FNV-1a */
    for (Py_ssize_t i = 0; i < size; i++)
        hash = (hash ^ (unsigned char)text[i]) * 1099511628211u;
    return hash;
}

static Entry *
slot(Entry *entries, size_t capacity, uint64_t hash, const char *text, Py_ssize_t size)
{
    size_t at = (size_t)hash & (capacity - 1);
    for (;;) {
        Entry *entry = &entries[at];
        if (entry->text == NULL ||
            (entry->hash == hash && entry->size == size && memcmp(entry->text, text, (size_t)size) == 0))
            return entry;
        at = (at + 1) & (capacity - 1);
    }
}

/* One more paper holding the word: 0, or -1 where memory ran out. With the tally's lock held. */
static int
count_word(Tally *tally, const char *text, Py_ssize_t size)
{
    if ((tally->used + 1) * 2 > tally->capacity) {
        size_t capacity = tally->capacity ? tally->capacity * 2 : 1 << 14;
        Entry *entries = PyMem_RawCalloc(capacity, sizeof(Entry));
        if (entries == NULL)
            return -1;
        for (size_t i = 0; i < tally->capacity; i++)
            if (tally->entries[i].text != NULL) {
                Entry *moved = &tally->entries[i];
                *slot(entries, capacity, moved->hash, moved->text, moved->size) = *moved;
            }
        PyMem_RawFree(tally->entries);
        tally->entries = entries;
        tally->capacity = capacity;
    }
    uint64_t hash = hashed(text, size);
    Entry *entry = slot(tally->entries, tally->capacity, hash, text, size);
    if (entry->text == NULL) {
        char *copy = PyMem_RawMalloc((size_t)size);
        if (copy == NULL)
            return -1;
        memcpy(copy, text, (size_t)size);
        *entry = (Entry){hash, copy, size, 0};
        tally->used++;
    }
    entry->papers++;
    return 0;
}

/* A word's bytes as FTS5 counts it: its first MAX_COUNTED_BYTES, not cutting a character. */
static Py_ssize_t
counted_size(const Token *word)
{
    if (word->size <= MAX_COUNTED_BYTES)
        return word->size;
    Py_ssize_t size = MAX_COUNTED_BYTES;
    while (size > 0 && ((unsigned char)word->text[size] & 0xC0) == 0x80)
        size--;
    return size;
}

/* Each distinct word of the sorted tokens in the title (A) or abstract (B), the '^word' left out,
 * counted once: 0, or -1 where memory ran out. Without the GIL, with the tally's lock held. */
static int
count_tokens(Tally *tally, const Token *tokens, Py_ssize_t count, const char *caret)
{
    Py_ssize_t i = 0;
    while (i < count) {
        const Token *word = &tokens[i];
        Py_ssize_t size = counted_size(word);
        int held = 0;
        for (; i < count && counted_size(&tokens[i]) == size && memcmp(tokens[i].text, word->text, (size_t)size) == 0;
             i++)
            held |= tokens[i].weight != 'C' && tokens[i].text != caret;
        if (held && count_word(tally, word->text, size) == -1)
            return -1;
    }
    return 0;
}

static int
count_job(Tally *tally, const Job *job)
{
    if (job->state == -1)
        return 0;
    if (count_tokens(tally, job->tokens, job->count, job->caret) == -1)
        return -1;
    return count_tokens(tally, job->tokens + job->room - job->spilled, job->spilled, job->caret);
}

static PyObject *
tally_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "Tally() takes no arguments");
        return NULL;
    }
    Tally *tally = (Tally *)type->tp_alloc(type, 0);
    if (tally == NULL)
        return NULL;
    tally->lock = PyThread_allocate_lock();
    if (tally->lock == NULL) {
        Py_DECREF(tally);
        return PyErr_NoMemory();
    }
    return (PyObject *)tally;
}

static void
forget(Tally *tally)
{
    for (size_t i = 0; i < tally->capacity; i++)
        PyMem_RawFree(tally->entries[i].text);
    PyMem_RawFree(tally->entries);
    tally->entries = NULL;
    tally->capacity = tally->used = 0;
}

static void
tally_dealloc(Tally *tally)
{
    forget(tally);
    if (tally->lock != NULL)
        PyThread_free_lock(tally->lock);
    Py_TYPE(tally)->tp_free((PyObject *)tally);
}

/* take(): {word: papers holding it} counted so far, the tally emptied. */
static PyObject *
tally_take(Tally *tally, PyObject *unused)
{
    (void)unused;
    PyObject *counts = PyDict_New();
    if (counts == NULL)
        return NULL;
    Py_BEGIN_ALLOW_THREADS /* a block being counted on another thread holds the lock */
    PyThread_acquire_lock(tally->lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
    for (size_t i = 0; i < tally->capacity; i++) {
        Entry *entry = &tally->entries[i];
        if (entry->text == NULL)
            continue;
        PyObject *word = PyUnicode_DecodeUTF8(entry->text, entry->size, "strict");
        PyObject *papers = word == NULL ? NULL : PyLong_FromSsize_t(entry->papers);
        if (papers == NULL || PyDict_SetItem(counts, word, papers) == -1) {
            Py_XDECREF(word);
            Py_XDECREF(papers);
            Py_CLEAR(counts);
            break;
        }
        Py_DECREF(word);
        Py_DECREF(papers);
    }
    if (counts != NULL)
        forget(tally);
    PyThread_release_lock(tally->lock);
    return counts;
}

static PyMethodDef tally_methods[] = {
    {"take", (PyCFunction)tally_take, METH_NOARGS, "take() -> {word: papers holding it}, the tally emptied"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TallyType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bot.storage._pg_document.Tally",
    .tp_basicsize = sizeof(Tally),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Papers holding each word of their title or abstract, counted by vectors(papers, tally)",
    .tp_new = tally_new,
    .tp_dealloc = (destructor)tally_dealloc,
    .tp_methods = tally_methods,
};

/* vectors([(title, abstract, authors), ...]): [vector(*columns) for columns in ...], with the
 * sorting and writing of them all done without the GIL, so that a worker thread builds a block of
 * papers' vectors while the event loop's thread makes their rows (docs/performance.md, "Eleventh
 * session"). Each column list is copied to a tuple first: the words the tokens point into stay
 * alive whatever another thread does to the lists meanwhile. */
static PyObject *
vectors(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "vectors(papers, tally=None)");
        return NULL;
    }
    Tally *tally = NULL;
    if (nargs == 2 && args[1] != Py_None) {
        if (!PyObject_TypeCheck(args[1], &TallyType)) {
            PyErr_SetString(PyExc_TypeError, "the tally must be a Tally");
            return NULL;
        }
        tally = (Tally *)args[1];
    }
    PyObject *papers = PySequence_Tuple(args[0]);
    if (papers == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(papers);
    Job *jobs = PyMem_RawCalloc((size_t)n + 1, sizeof(Job));
    PyObject **held = PyMem_RawCalloc((size_t)n * 3 + 1, sizeof(PyObject *));
    PyObject *result = NULL;
    if (jobs == NULL || held == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *columns = PyTuple_GET_ITEM(papers, i);
        if (!PyTuple_Check(columns) || PyTuple_GET_SIZE(columns) != 3) {
            PyErr_SetString(PyExc_TypeError, "each paper's (title words, abstract, authors)");
            goto done;
        }
        PyObject *args[3];
        for (int c = 0; c < 3; c++) {
            PyObject *column = PyTuple_GET_ITEM(columns, c);
            held[i * 3 + c] = PyList_Check(column) ? PyList_AsTuple(column) : Py_NewRef(column);
            if (held[i * 3 + c] == NULL)
                goto done;
            args[c] = held[i * 3 + c];
        }
        if (gather(args, &jobs[i]) == -1)
            goto done;
        if (tally != NULL && jobs[i].read < 2) {
            PyErr_SetString(PyExc_TypeError, "a tallied paper's title and abstract are words or ASCII text");
            goto done;
        }
    }
    int uncounted = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        make(&jobs[i], 1, tally != NULL);
    if (tally != NULL) {
        /* Once a block: the other thread's block waits at most one block's counting. */
        PyThread_acquire_lock(tally->lock, WAIT_LOCK);
        for (Py_ssize_t i = 0; i < n && !uncounted; i++)
            uncounted = jobs[i].no_memory || count_job(tally, &jobs[i]) == -1;
        PyThread_release_lock(tally->lock);
    }
    Py_END_ALLOW_THREADS
    if (uncounted) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyList_New(n);
    if (result == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *built_one = finish(&jobs[i], 1);
        if (built_one == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, built_one);
    }
done:
    if (jobs != NULL) {
        for (Py_ssize_t i = 0; i < n; i++)
            release(&jobs[i]);
        PyMem_RawFree(jobs);
    }
    if (held != NULL) {
        for (Py_ssize_t i = 0; i < n * 3; i++)
            Py_XDECREF(held[i]);
        PyMem_RawFree(held);
    }
    Py_DECREF(papers);
    return result;
}

static PyMethodDef methods[] = {
    {"document", (PyCFunction)(void (*)(void))document, METH_FASTCALL,
     "document(title, abstract, authors) -> the tsvector text, or None to build it in Python"},
    {"vector", (PyCFunction)(void (*)(void))vector, METH_FASTCALL,
     "vector(title, abstract, authors) -> the tsvector in binary (tsvectorsend's bytes), or None"},
    {"vectors", (PyCFunction)(void (*)(void))vectors, METH_FASTCALL,
     "vectors([(title, abstract, authors), ...], tally=None) -> [vector(...) of each], built without the GIL; "
     "each paper's distinct title and abstract words counted into the tally"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_pg_document", .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__pg_document(void)
{
    fill_word_bytes();
    if (PyType_Ready(&TallyType) < 0)
        return NULL;
    PyObject *created = PyModule_Create(&module);
    if (created != NULL && PyModule_AddObjectRef(created, "Tally", (PyObject *)&TallyType) < 0)
        Py_CLEAR(created);
    return created;
}
