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

/* Each add_* returns 1 (tokens added, *length set to the column's words), 0 (the Python builder
 * must do it: None) or -1 (an error is set). */
static int
add_words(PyObject *words, Token *tokens, Py_ssize_t *count, int first, char weight, Py_ssize_t *length)
{
    Py_ssize_t number = PySequence_Fast_GET_SIZE(words);
    if (number > 0 && first + number - 1 > MAX_POSITION)
        return 0;
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
        if (size == 0 || memchr(text, '\'', (size_t)size) || memchr(text, '\\', (size_t)size) ||
            memchr(text, 0, (size_t)size))
            return 0;
        if (size > MAX_LEXEME_BYTES)
            continue;
        tokens[(*count)++] = token(text, size, first + (int)i, weight);
    }
    *length = number;
    return 1;
}

static int
add_ascii_text(PyObject *text, char **lowered_out, Token *tokens, Py_ssize_t *count, int first, char weight,
               Py_ssize_t *length)
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
            return 0;
        if (at - start <= MAX_LEXEME_BYTES)
            tokens[(*count)++] = token(lowered + start, at - start, position, weight);
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

/* One paper's document in three steps: ``gather`` its tokens (with the GIL: it reads the words'
 * UTF-8), ``make`` the sorted lexemes' bytes (plain C, no Python object touched: ``vectors`` runs
 * it without the GIL), ``finish`` them into the result. Every buffer is PyMem_RawMalloc's. */
typedef struct {
    Token *tokens;
    Py_ssize_t count;
    char *lowered[3];
    char *caret;
    int state; /* 1: to make, 0: None (the Python builder's to build), -1: an error is set */
    int no_memory;
    char *out;
    Py_ssize_t size;
} Job;

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
    Py_ssize_t room = bound(args[0]) + bound(args[1]) + bound(args[2]) + 1;
    job->tokens = PyMem_RawMalloc(sizeof(Token) * (size_t)room);
    if (job->tokens == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int first = 1;
    int done = 1;
    for (int c = 0; c < 3 && done == 1; c++) {
        Py_ssize_t length = 0;
        if (PyUnicode_Check(args[c]))
            done = add_ascii_text(args[c], &job->lowered[c], job->tokens, &job->count, first, "ABC"[c],
                                  &length);
        else
            done = add_words(args[c], job->tokens, &job->count, first, "ABC"[c], &length);
        if (done == 1 && c == 0 && length > 0) {
            /* The title's first word once more as '^word' (its own length rule applies). */
            Py_ssize_t size;
            const char *text = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(args[0], 0), &size);
            if (size + 1 <= MAX_LEXEME_BYTES) {
                job->caret = PyMem_RawMalloc((size_t)size + 1);
                if (job->caret == NULL) {
                    PyErr_NoMemory();
                    done = -1;
                    break;
                }
                job->caret[0] = '^';
                memcpy(job->caret + 1, text, (size_t)size);
                job->tokens[job->count++] = token(job->caret, size + 1, 1, 'A');
            }
        }
        first += (int)length + 1;
    }
    job->state = done;
    return done;
}

/* Touches no Python object and takes no Python lock: safe without the GIL. */
static void
make(Job *job, int binary)
{
    if (job->state != 1)
        return;
    Token *spare = PyMem_RawMalloc(sizeof(Token) * (size_t)(job->count / 2 + 1));
    if (spare == NULL) {
        job->no_memory = 1;
        return;
    }
    sort_tokens(job->tokens, spare, job->count);
    PyMem_RawFree(spare);
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
        make(&job, binary);
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

/* vectors([(title, abstract, authors), ...]): [vector(*columns) for columns in ...], with the
 * sorting and writing of them all done without the GIL, so that a worker thread builds a block of
 * papers' vectors while the event loop's thread makes their rows (docs/performance.md, "Eleventh
 * session"). Each column list is copied to a tuple first: the words the tokens point into stay
 * alive whatever another thread does to the lists meanwhile. */
static PyObject *
vectors(PyObject *module, PyObject *arg)
{
    (void)module;
    PyObject *papers = PySequence_Tuple(arg);
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
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        make(&jobs[i], 1);
    Py_END_ALLOW_THREADS
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
    {"vectors", (PyCFunction)vectors, METH_O,
     "vectors([(title, abstract, authors), ...]) -> [vector(...) of each], built without the GIL"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_pg_document", .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__pg_document(void)
{
    fill_word_bytes();
    return PyModule_Create(&module);
}
