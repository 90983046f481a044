/* A paper's content hash (bot.domain.models.Paper.content_hash) for a fraction of its cost: the
 * BLAKE2b digest (16 bytes, hex) of the UTF-8 of repr(values), the tuple of the paper's content
 * fields. Every stored row's content_hash was made from that text, so this writes exactly the
 * text repr would: tests/domain/test_content_hash.py holds it to the Python definition over the
 * real corpus and over hostile text.
 *
 * The repr of what a paper holds is written here directly: a str as unicode_repr writes it (its
 * quotes, escapes and printable characters), an int as its decimal digits, None, a date, tuples
 * of those. Anything else (a big int, a str subclass, any other type) is handed to PyObject_Repr. The digest
 * is hashlib's own blake2b, called from here (CPython's build of it; no copy to keep in step).
 *
 * digest(values, members) -> str: ``members`` a tuple of (object, text) pairs whose repr is the
 * text given (the Source enum's members: Enum's __repr__ runs in Python), found by identity.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <string.h>

/* Deeper than this, repr's own recursion guard decides (no paper nests tuples at all). */
#define MAX_DEPTH 32

typedef struct {
    char *data;
    Py_ssize_t size;
    Py_ssize_t capacity;
} Text;

static PyObject *blake2b;     /* hashlib.blake2b */
static PyObject *digest_kw;   /* ("digest_size",) */
static PyObject *sixteen;     /* 16 */
static PyObject *hexdigest;   /* "hexdigest" */

static int
reserve(Text *text, Py_ssize_t more)
{
    if (text->size + more <= text->capacity)
        return 0;
    Py_ssize_t capacity = text->capacity * 2;
    if (capacity < text->size + more)
        capacity = text->size + more;
    char *data = PyMem_Realloc(text->data, (size_t)capacity);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    text->data = data;
    text->capacity = capacity;
    return 0;
}

static int
append(Text *text, const char *bytes, Py_ssize_t size)
{
    if (reserve(text, size) < 0)
        return -1;
    memcpy(text->data + text->size, bytes, (size_t)size);
    text->size += size;
    return 0;
}

/* A str's text as UTF-8 (repr's own text, from PyObject_Repr, is written this way). */
static int
append_utf8(Text *text, PyObject *str)
{
    if (PyUnicode_IS_ASCII(str))
        return append(text, (const char *)PyUnicode_1BYTE_DATA(str), PyUnicode_GET_LENGTH(str));
    PyObject *encoded = PyUnicode_AsUTF8String(str);
    if (encoded == NULL)
        return -1;
    int done = append(text, PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded));
    Py_DECREF(encoded);
    return done;
}

static int
append_repr(Text *text, PyObject *value)
{
    PyObject *repr = PyObject_Repr(value);
    if (repr == NULL)
        return -1;
    int done = append_utf8(text, repr);
    Py_DECREF(repr);
    return done;
}

static const char hex_digits[] = "0123456789abcdef";

static unsigned char *
put_hex(unsigned char *at, char mark, Py_UCS4 c, int digits)
{
    *at++ = '\\';
    *at++ = (unsigned char)mark;
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4)
        *at++ = (unsigned char)hex_digits[(c >> shift) & 0xf];
    return at;
}

static unsigned char *
put_utf8(unsigned char *at, Py_UCS4 c)
{
    if (c < 0x80) {
        *at++ = (unsigned char)c;
    } else if (c < 0x800) {
        *at++ = (unsigned char)(0xc0 | (c >> 6));
        *at++ = (unsigned char)(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        *at++ = (unsigned char)(0xe0 | (c >> 12));
        *at++ = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        *at++ = (unsigned char)(0x80 | (c & 0x3f));
    } else {
        *at++ = (unsigned char)(0xf0 | (c >> 18));
        *at++ = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
        *at++ = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        *at++ = (unsigned char)(0x80 | (c & 0x3f));
    }
    return at;
}

/* repr of a str, as CPython's unicode_repr writes it, in UTF-8: between single quotes, or double
 * ones where the text holds a single quote and no double one; the quote used and the backslash
 * escaped with a backslash; tab, line feed and carriage return as \t \n \r; other control
 * characters and DEL as \xhh; a character past ASCII as itself where str.isprintable says so,
 * else as \xhh, \uhhhh or \Uhhhhhhhh (a lone surrogate among them). */
static int
append_str(Text *text, PyObject *str)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(str);
    int kind = PyUnicode_KIND(str);
    const void *chars = PyUnicode_DATA(str);
    if (PyUnicode_IS_ASCII(str)) {
        /* One pass without branches (the compiler vectorises it) says whether the text goes in
         * as it is: most paper text does (an apostrophe only picks the other quote). */
        const unsigned char *bytes = chars;
        unsigned single = 0, twin = 0, special = 0;
        for (Py_ssize_t i = 0; i < length; i++) {
            unsigned char c = bytes[i];
            single |= c == '\'';
            twin |= c == '"';
            special |= (c < 0x20) | (c == 0x7f) | (c == '\\');
        }
        if (!special && !(single && twin)) {
            if (reserve(text, length + 2) < 0)
                return -1;
            char quote = single ? '"' : '\'';
            char *at = text->data + text->size;
            *at++ = quote;
            memcpy(at, bytes, (size_t)length);
            at[length] = quote;
            text->size += length + 2;
            return 0;
        }
    }
    int single = 0, twin = 0;
    for (Py_ssize_t i = 0; i < length && !(single && twin); i++) {
        Py_UCS4 c = PyUnicode_READ(kind, chars, i);
        single |= c == '\'';
        twin |= c == '"';
    }
    Py_UCS4 quote = single && !twin ? '"' : '\'';
    /* At most ten bytes a character (\Uhhhhhhhh), and the quotes. */
    if (reserve(text, 10 * length + 2) < 0)
        return -1;
    unsigned char *at = (unsigned char *)text->data + text->size;
    *at++ = (unsigned char)quote;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, chars, i);
        if (c == quote || c == '\\') {
            *at++ = '\\';
            *at++ = (unsigned char)c;
        } else if (c == '\t') {
            *at++ = '\\';
            *at++ = 't';
        } else if (c == '\n') {
            *at++ = '\\';
            *at++ = 'n';
        } else if (c == '\r') {
            *at++ = '\\';
            *at++ = 'r';
        } else if (c < 0x20 || c == 0x7f) {
            at = put_hex(at, 'x', c, 2);
        } else if (c < 0x7f || Py_UNICODE_ISPRINTABLE(c)) {
            at = put_utf8(at, c);
        } else if (c <= 0xff) {
            at = put_hex(at, 'x', c, 2);
        } else if (c <= 0xffff) {
            at = put_hex(at, 'u', c, 4);
        } else {
            at = put_hex(at, 'U', c, 8);
        }
    }
    *at++ = (unsigned char)quote;
    text->size = (Py_ssize_t)((char *)at - text->data);
    return 0;
}

static int append_value(Text *text, PyObject *value, PyObject *members, int depth);

static int
append_tuple(Text *text, PyObject *tuple, PyObject *members, int depth)
{
    Py_ssize_t length = PyTuple_GET_SIZE(tuple);
    if (append(text, "(", 1) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (i > 0 && append(text, ", ", 2) < 0)
            return -1;
        if (append_value(text, PyTuple_GET_ITEM(tuple, i), members, depth + 1) < 0)
            return -1;
    }
    /* A one-element tuple is written "(x,)". */
    return length == 1 ? append(text, ",)", 2) : append(text, ")", 1);
}

static int
append_value(Text *text, PyObject *value, PyObject *members, int depth)
{
    if (value == Py_None)
        return append(text, "None", 4);
    if (PyUnicode_CheckExact(value))
        return append_str(text, value);
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow != 0)
            return append_repr(text, value);
        if (number == -1 && PyErr_Occurred())
            return -1;
        char digits[24];
        int size = snprintf(digits, sizeof digits, "%lld", number);
        return append(text, digits, size);
    }
    if (PyTuple_CheckExact(value) && depth < MAX_DEPTH)
        return append_tuple(text, value, members, depth);
    if (PyDate_CheckExact(value)) {
        char date[48];
        int size = snprintf(date, sizeof date, "datetime.date(%d, %d, %d)", PyDateTime_GET_YEAR(value),
                            PyDateTime_GET_MONTH(value), PyDateTime_GET_DAY(value));
        return append(text, date, size);
    }
    Py_ssize_t count = PyTuple_GET_SIZE(members);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PyTuple_GET_ITEM(members, i);
        if (PyTuple_GET_ITEM(pair, 0) == value)
            return append_utf8(text, PyTuple_GET_ITEM(pair, 1));
    }
    return append_repr(text, value);
}

static int
valid_members(PyObject *members)
{
    if (!PyTuple_Check(members))
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(members); i++) {
        PyObject *pair = PyTuple_GET_ITEM(members, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(pair, 1)))
            return 0;
    }
    return 1;
}

static PyObject *
digest(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyTuple_Check(args[0]) || !valid_members(args[1])) {
        PyErr_SetString(PyExc_TypeError, "digest(values: tuple, members: tuple of (object, str))");
        return NULL;
    }
    Text text = {NULL, 0, 0};
    if (reserve(&text, 4096) < 0)
        return NULL;
    PyObject *result = NULL;
    if (append_tuple(&text, args[0], args[1], 0) == 0) {
        PyObject *data = PyBytes_FromStringAndSize(text.data, text.size);
        if (data != NULL) {
            PyObject *call[2] = {data, sixteen};
            PyObject *hash = PyObject_Vectorcall(blake2b, call, 1, digest_kw);
            Py_DECREF(data);
            if (hash != NULL) {
                result = PyObject_CallMethodNoArgs(hash, hexdigest);
                Py_DECREF(hash);
            }
        }
    }
    PyMem_Free(text.data);
    return result;
}

static PyMethodDef methods[] = {
    {"digest", (PyCFunction)(void (*)(void))digest, METH_FASTCALL,
     "digest(values, members) -> blake2b(repr(values).encode(), digest_size=16).hexdigest()"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_content_hash", .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__content_hash(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    PyObject *hashlib = PyImport_ImportModule("hashlib");
    if (hashlib == NULL)
        return NULL;
    blake2b = PyObject_GetAttrString(hashlib, "blake2b");
    Py_DECREF(hashlib);
    digest_kw = Py_BuildValue("(s)", "digest_size");
    sixteen = PyLong_FromLong(16);
    hexdigest = PyUnicode_InternFromString("hexdigest");
    if (blake2b == NULL || digest_kw == NULL || sixteen == NULL || hexdigest == NULL)
        return NULL;
    return PyModule_Create(&module);
}
