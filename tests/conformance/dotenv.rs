//! Env files: compose-go's dotenv/ tests (godotenv_test.go, godotenv_var_expansion_test.go,
//! parser_test.go and the fixtures they read), and the variable precedence of cli/options_test.go.
//! A service's `env_file` shows what the parser made of a file (compose-go reads both `.env`
//! and `env_file` with the same parser); `.env` cases check the project's variables.
//!
//! Skipped (Go API or the process environment, nothing a stack file can show):
//! TestLoadWithNoArgsLoadsDotEnv, TestLoadFileNotFound, TestLoadDoesNotOverride,
//! TestActualEnvVarsAreLeftAlone (godotenv's `Load` into os.Environ), TestLoadWithFormat (a
//! custom Go parser registered at run time), TestLinesToIgnore (an internal helper; the same
//! lines are parsed here as whole files), TestMemoryExplosion (allocation size), TestEnvMap
//! (a Go helper), TestErrorReadDirectory (kept as TestGetEnvFromFile, the same case).

use super::{case, js, Case, ABSENT};

/// types/fixtures/base.env, rewritten.
const BASE_ENV: &str =
    "FOO=foo_from_base.env\nINTERPOLATED_FOO=${FOO}\nBAR=bar_from_base.env\nINTERPOLATED_BAR=${BAR}\nZOT=zot_from_base.env\nINTERPOLATED_ZOT=${ZOT}\n";

/// A service reading `env/test.env` (`text`, byte for byte), with these process variables.
fn env_file(source: &str, text: &str) -> Case {
    case(source).yaml("\nservices:\n  web:\n    image: x\n    env_file: env/test.env\n").raw_file("env/test.env", text)
}

/// `.env` (`text`, byte for byte) and a service whose environment shows `vars` interpolated.
fn dot_env(source: &str, text: &str, vars: &[&str]) -> Case {
    let env: String = vars.iter().map(|v| format!("      {v}: ${{{v}}}\n")).collect();
    case(source).yaml(&format!("\nservices:\n  web:\n    image: x\n    environment:\n{env}")).raw_file(".env", text)
}

trait Values {
    /// The service `web`'s environment has these values (ABSENT: no such variable).
    fn vals(self, vals: &[(&str, &str)]) -> Case;
}

impl Values for Case {
    fn vals(self, vals: &[(&str, &str)]) -> Case {
        vals.iter().fold(self, |c, (k, v)| {
            let pointer = format!("/services/web/environment/{}", k.replace('~', "~0").replace('/', "~1"));
            if *v == ABSENT {
                c.at(&pointer, ABSENT)
            } else {
                c.at(&pointer, js(v))
            }
        })
    }
}

/// One line of godotenv_test.go TestParsing: `line` parses to `key` = `value`.
fn parses(line: &str, key: &str, value: &str) -> Case {
    env_file(&format!("godotenv_test.go TestParsing (`{}`)", line.escape_debug()), line).vals(&[(key, value)])
}

pub fn cases() -> Vec<Case> {
    let mut v = parsing();
    v.extend(fixtures());
    v.extend(expansion());
    v.extend(errors());
    v.extend(precedence());
    v
}

fn parsing() -> Vec<Case> {
    let lines: &[(&str, &str, &str)] = &[
        ("FOO=bar", "FOO", "bar"),
        ("FOO =bar", "FOO", "bar"),
        ("FOO= bar", "FOO", "bar"),
        (r#"FOO="bar""#, "FOO", "bar"),
        ("FOO='bar'", "FOO", "bar"),
        (r#"FOO="escaped\"bar""#, "FOO", r#"escaped"bar"#),
        (r#"FOO="\"quoted\"""#, "FOO", r#""quoted""#),
        (r#"FOO="'d'""#, "FOO", "'d'"),
        ("OPTION_A: 1", "OPTION_A", "1"),
        ("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar"),
        ("OPTION_A=1:B", "OPTION_A", "1:B"),
        ("export OPTION_A=2", "OPTION_A", "2"),
        (r"export OPTION_B='\n'", "OPTION_B", r"\n"),
        ("export exportFoo=2", "exportFoo", "2"),
        ("exportFOO=2", "exportFOO", "2"),
        ("export_FOO =2", "export_FOO", "2"),
        ("export.FOO= 2", "export.FOO", "2"),
        ("export\tOPTION_A=2", "OPTION_A", "2"),
        ("  export OPTION_A=2", "OPTION_A", "2"),
        ("\texport OPTION_A=2", "OPTION_A", "2"),
        (r#"export OPTION_A="export A""#, "OPTION_A", "export A"),
        (r#"FOO="bar\nbaz""#, "FOO", "bar\nbaz"),
        (r"FOO=a\tb", "FOO", r"a\tb"),
        (r#"FOO="a\tb""#, "FOO", "a\tb"),
        (r#"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""#, "KEY", "Z\x07Z\x08Z\x0cZ\nZ\rZ\tZ\x0bZ\\ZSZ"),
        ("FOO.BAR=foobar", "FOO.BAR", "foobar"),
        ("FOO=foobar=", "FOO", "foobar="),
        ("FOO=bar ", "FOO", "bar"),
        ("FOO=bar # this is foo", "FOO", "bar"),
        ("FOO=bar #this is foo", "FOO", "bar"),
        ("FOO=bar #", "FOO", "bar"),
        ("FOO=123#not-an-inline-comment", "FOO", "123#not-an-inline-comment"),
        (r#"FOO="bar#baz""#, "FOO", "bar#baz"),
        (r##"FOO="bar#baz"#"##, "FOO", "bar#baz"),
        (r#"FOO="bar#baz" # comment"#, "FOO", "bar#baz"),
        ("FOO='bar#baz' # comment", "FOO", "bar#baz"),
        (r#"FOO="bar#baz#bang" # comment"#, "FOO", "bar#baz#bang"),
        (r#"FOO="ba#r""#, "FOO", "ba#r"),
        ("FOO='ba#r'", "FOO", "ba#r"),
        (r#"FOO="bar\n\ b\az""#, "FOO", "bar\n\\ b\x07z"),
        (r#"FOO="bar\\\n\ b\az""#, "FOO", "bar\\\n\\ b\x07z"),
        (r#"FOO="bar\\r\ b\az""#, "FOO", "bar\\r\\ b\x07z"),
        (r#"FOO="bar\nbaz\\""#, "FOO", "bar\nbaz\\"),
        (" KEY =value", "KEY", "value"),
        ("   KEY=value", "KEY", "value"),
        ("\tKEY=value", "KEY", "value"),
        (r#"KEY="\0123""#, "KEY", "S"),
        (r#"KEY="\x07""#, "KEY", r"\x07"),
        (r#"KEY="\u12e4""#, "KEY", r"\u12e4"),
        (r#"KEY="\U00101234""#, "KEY", r"\U00101234"),
        ("ONE=1\nTWO='2'\nTHREE = \"3\"", "THREE", "3"),
        ("a=b\na[1]=c\na.propertyKey=d\n", "a[1]", "c"),
        ("a=b\na[1]=c\na.propertyKey=d\n", "a.propertyKey", "d"),
        ("árvíztűrő-TÜKÖRFÚRÓGÉP=ÁRVÍZTŰRŐ-tükörfúrógép\n", "árvíztűrő-TÜKÖRFÚRÓGÉP", "ÁRVÍZTŰRŐ-tükörfúrógép"),
        (
            "TEST_URLS=\"stratum+tcp://a:3333\nstratum+tcp://b:443\"",
            "TEST_URLS",
            "stratum+tcp://a:3333\nstratum+tcp://b:443",
        ),
        ("\n\r\n\t\t \n# Comment\n\t # comment\nK=v\n", "K", "v"),
        ("K='Let\\'s go!'", "K", "Let's go!"),
        ("K=\"a\\$b\"", "K", "a$b"),
        (r#"="value""#, "", "value"),
        ("A=\"x\" B=y", "B", "y"),
    ];
    lines.iter().map(|(line, k, v)| parses(line, k, v)).collect()
}

/// The dotenv/fixtures files, rewritten, and what each test expects of them.
fn fixtures() -> Vec<Case> {
    vec![
        env_file(
            "godotenv_test.go TestReadPlainEnv (fixtures/plain.env)",
            "OPTION_A=1\nOPTION_B=2\nOPTION_C= 3\nOPTION_D =4\nOPTION_E = 5\nOPTION_F = \nOPTION_G=\nOPTION_H = my string # Inline comment\n",
        )
        .vals(&[
            ("OPTION_A", "1"),
            ("OPTION_B", "2"),
            ("OPTION_C", "3"),
            ("OPTION_D", "4"),
            ("OPTION_E", "5"),
            ("OPTION_F", ""),
            ("OPTION_G", ""),
            ("OPTION_H", "my string"),
        ]),
        env_file("godotenv_test.go TestLoadExportedEnv (fixtures/exported.env)", "export OPTION_A=2\nexport OPTION_B='\\n'\n")
            .vals(&[("OPTION_A", "2"), ("OPTION_B", "\\n")]),
        env_file(
            "godotenv_test.go TestLoadEqualsEnv (fixtures/equals.env)",
            "export OPTION_A='postgres://localhost:5432/database?sslmode=disable'\n\n",
        )
        .vals(&[("OPTION_A", "postgres://localhost:5432/database?sslmode=disable")]),
        env_file(
            "godotenv_test.go TestLoadQuotedEnv (fixtures/quoted.env)",
            "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\nOPTION_F=\"2\"\nOPTION_G=\"\"\nOPTION_H=\"\\n\"\n\
             OPTION_I = \"echo 'asd'\" # Inline comment\nOPTION_J = 'first line\nsecond line\nthird line\nand so on'\n\
             OPTION_K='Let\\'s go!'\nOPTION_Z = \"last value\"\n",
        )
        .vals(&[
            ("OPTION_A", "1"),
            ("OPTION_B", "2"),
            ("OPTION_C", ""),
            ("OPTION_D", "\\n"),
            ("OPTION_E", "1"),
            ("OPTION_F", "2"),
            ("OPTION_G", ""),
            ("OPTION_H", "\n"),
            ("OPTION_I", "echo 'asd'"),
            ("OPTION_J", "first line\nsecond line\nthird line\nand so on"),
            ("OPTION_K", "Let's go!"),
            ("OPTION_Z", "last value"),
        ]),
        env_file(
            "godotenv_test.go TestLoadUnquotedEnv (fixtures/unquoted.env)",
            "OPTION_A = \"some quoted phrase\"\nOPTION_B=first one with an unquoted phrase\n\
             OPTION_C = then another one with an unquoted phrase\nOPTION_D = then another one with an unquoted phrase special è char\n\
             OPTION_E = \"then another one quoted phrase\"\n",
        )
        .vals(&[
            ("OPTION_A", "some quoted phrase"),
            ("OPTION_B", "first one with an unquoted phrase"),
            ("OPTION_C", "then another one with an unquoted phrase"),
            ("OPTION_D", "then another one with an unquoted phrase special è char"),
            ("OPTION_E", "then another one quoted phrase"),
        ]),
        env_file(
            "godotenv_test.go TestSubstitutions (fixtures/substitutions.env)",
            "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n",
        )
        .vals(&[("OPTION_A", "1"), ("OPTION_B", "1"), ("OPTION_C", "1"), ("OPTION_D", "1_1"), ("OPTION_E", "")]),
        env_file(
            "godotenv_test.go TestSubstitutionsWithEnvFilePrecedence (fixtures/substitutions.env)",
            "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n",
        )
        .env(&[("OPTION_A", "5")])
        .vals(&[("OPTION_A", "1"), ("OPTION_B", "5"), ("OPTION_C", "5"), ("OPTION_D", "5_5"), ("OPTION_E", "")]),
        env_file(
            "godotenv_test.go TestSubstitutionsWithEnvFileDefaultValuePrecedence (fixtures/substitutions-default.env)",
            "OPTION_A=${OPTION_A:-1}\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n",
        )
        .env(&[("OPTION_A", "5")])
        .vals(&[("OPTION_A", "5"), ("OPTION_B", "5"), ("OPTION_C", "5"), ("OPTION_D", "5_5"), ("OPTION_E", "")]),
        env_file(
            "godotenv_test.go TestSubstitutionsWithUnsetVarEnvFileDefaultValuePrecedence",
            "OPTION_A=${OPTION_A:-1}\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n",
        )
        .vals(&[("OPTION_A", "1"), ("OPTION_B", "1"), ("OPTION_C", "1"), ("OPTION_D", "1_1"), ("OPTION_E", "")]),
        env_file("godotenv_test.go TestUTF8BOM (fixtures/utf8-bom.env)", "\u{feff}OPTION_A=1\nOPTION_B=2\nOPTION_C= 3\n")
            .vals(&[("OPTION_A", "1"), ("OPTION_B", "2"), ("OPTION_C", "3")]),
        env_file(
            "godotenv_test.go TestDash (fixtures/special.env)",
            "VAR.WITH.DOTS=dots\nVAR_WITH_UNDERSCORES=underscores\nVAR-WITH-DASHES=dashes\n",
        )
        .vals(&[("VAR-WITH-DASHES", "dashes"), ("VAR.WITH.DOTS", "dots"), ("VAR_WITH_UNDERSCORES", "underscores")]),
        env_file(
            "godotenv_test.go TestInheritedEnvVariableSameSize (fixtures/inherited-multi-var.env)",
            "foo=bar\nVAR_TO_BE_LOADED_FROM_OS_ENV\nbar=baz\n",
        )
        .env(&[("VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE")])
        .vals(&[("VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE"), ("foo", "bar"), ("bar", "baz")]),
        env_file("godotenv_test.go TestInheritedEnvVariableSingleVar (fixtures/inherited-single-var.env)", "VAR_TO_BE_LOADED_FROM_OS_ENV\n")
            .env(&[("VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE")])
            .vals(&[("VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE")]),
        env_file("godotenv_test.go TestInheritedEnvVariableNotFound (fixtures/inherited-not-found.env)", "VARIABLE_NOT_FOUND\n")
            .vals(&[("VARIABLE_NOT_FOUND", ABSENT)]),
        env_file("godotenv_test.go TestExpandingEnvironmentWithLookup", "TEST=$ME").env(&[("ME", "YES")]).vals(&[("TEST", "YES")]),
        case("loader_test.go TestLoadServiceWithEnvFile (a variable of the project's environment)")
            .yaml("\nservices:\n  web:\n    image: x\n    env_file: env/test.env\n")
            .raw_file("env/test.env", "HALLO=$TEST")
            .raw_file(".env", "TEST=YES\n")
            .vals(&[("HALLO", "YES")]),
        dot_env("godotenv_test.go TestUTF8BOM (.env)", "\u{feff}OPTION_A=1\n", &["OPTION_A"]).vals(&[("OPTION_A", "1")]),
        dot_env("godotenv_test.go TestParsing (.env, yaml style)", "OPTION_A: 1\nOPTION_B: Foo=bar\nOPTION_C=1:B\n", &["OPTION_A", "OPTION_B", "OPTION_C"])
            .vals(&[("OPTION_A", "1"), ("OPTION_B", "Foo=bar"), ("OPTION_C", "1:B")]),
        dot_env("godotenv_test.go TestLoadQuotedEnv (.env, `'Let\\'s go!'`)", "OPTION_K='Let\\'s go!'\n", &["OPTION_K"])
            .vals(&[("OPTION_K", "Let's go!")]),
        dot_env("template_test.go TestUnescaped via .env (`PASS=ab$`)", "PASS=ab$\n", &["PASS"]).vals(&[("PASS", "ab$")]),
        dot_env(
            "godotenv_test.go TestSubstitutionsWithEnvFilePrecedence (.env)",
            "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\n",
            &["OPTION_A", "OPTION_B", "OPTION_C"],
        )
        .env(&[("OPTION_A", "5")])
        .vals(&[("OPTION_A", "5"), ("OPTION_B", "5"), ("OPTION_C", "5")]),
        case("godotenv.go ReadWithLookup (.env: a key starting with a digit names no variable)")
            .yaml("\nservices:\n  web:\n    image: x\n    environment: {G: $GOOD}\n")
            .raw_file(".env", "1BAD=x\nGOOD=y\n")
            .vals(&[("G", "y")]),
        env_file("env.go ParseWithFormat (env_file: a key starting with a digit is kept)", "456 = ABC\nGOOD=y\n")
            .vals(&[("456", "ABC"), ("GOOD", "y")]),
    ]
}

/// godotenv_test.go TestExpanding and godotenv_var_expansion_test.go.
fn expansion() -> Vec<Case> {
    let mut v = vec![
        env_file("godotenv_test.go TestExpanding (expands variables found in values)", "FOO=test\nBAR=$FOO")
            .vals(&[("BAR", "test")]),
        env_file("godotenv_test.go TestExpanding (variables wrapped in brackets)", "FOO=test\nBAR=${FOO}bar")
            .vals(&[("BAR", "testbar")]),
        env_file("godotenv_test.go TestExpanding (undefined variables expand to empty)", "BAR=$FOO")
            .vals(&[("BAR", "")]),
        env_file("godotenv_test.go TestExpanding (double quotes expand)", "FOO=test\nBAR=\"quote $FOO\"")
            .vals(&[("BAR", "quote test")]),
        env_file("godotenv_test.go TestExpanding (single quotes do not expand)", "BAR='quote $FOO'")
            .vals(&[("BAR", "quote $FOO")]),
        env_file("godotenv_test.go TestExpanding (escaped 1)", r#"FOO="foo\$BAR""#).vals(&[("FOO", "foo$BAR")]),
        env_file("godotenv_test.go TestExpanding (escaped 2)", r#"FOO="foo\${BAR}""#).vals(&[("FOO", "foo${BAR}")]),
        env_file("godotenv_test.go TestExpanding (escaped 3)", "FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"")
            .vals(&[("BAR", "foo${FOO} test")]),
    ];
    let env: &[(&str, &str)] = &[("EMPTY_VAR", ""), ("TEST_VAR", "Test Value")];
    let expand = [
        ("TestExpandIfEmptyOrUnset", "${UNSET_VAR:-Default Value}", "Default Value"),
        ("TestExpandIfEmptyOrUnset", "${EMPTY_VAR:-Default Value}", "Default Value"),
        ("TestExpandIfEmptyOrUnset", "${TEST_VAR:-Default Value}", "Test Value"),
        ("TestExpandIfUnset", "${UNSET_VAR-Default Value}", "Default Value"),
        ("TestExpandIfUnset", "${EMPTY_VAR-Default Value}", ""),
        ("TestExpandIfUnset", "${TEST_VAR-Default Value}", "Test Value"),
        ("TestErrorIfEmptyOrUnset", "${TEST_VAR:?Default Value}", "Test Value"),
        ("TestErrorIfUnset", "${EMPTY_VAR?Test error}", ""),
        ("TestErrorIfUnset", "${TEST_VAR?Default Value}", "Test Value"),
    ];
    for (test, tpl, want) in expand {
        v.push(
            env_file(&format!("godotenv_var_expansion_test.go {test} (`{tpl}`)"), &format!("RESULT={tpl}\n"))
                .env(env)
                .vals(&[("RESULT", want)]),
        );
    }
    for (test, tpl) in [
        ("TestErrorIfEmptyOrUnset", "${UNSET_VAR:?Test error}"),
        ("TestErrorIfEmptyOrUnset", "${EMPTY_VAR:?Test error}"),
        ("TestErrorIfUnset", "${UNSET_VAR?Test error}"),
    ] {
        v.push(
            env_file(&format!("godotenv_var_expansion_test.go {test} (`{tpl}` fails)"), &format!("RESULT={tpl}\n"))
                .env(env)
                .fails("Test error"),
        );
    }
    v
}

fn errors() -> Vec<Case> {
    let mut v: Vec<Case> = [
        r#"KEY=""#,
        r#"KEY="value"#,
        r#"KEY="value\""#,
        r#"KEY="value'"#,
        "KEY='",
        "KEY='value",
        r"KEY='value\'",
        r#"KEY='value""#,
    ]
    .iter()
    .map(|line| env_file(&format!("godotenv_test.go TestUnterminatedQuotes (`{line}`)"), line).fails("unterminated"))
    .collect();
    v.extend([
        env_file("godotenv_test.go TestParsing (`lol$wut` is an error)", "lol$wut").fails("env/test.env"),
        env_file("godotenv_test.go TestErrorParsing (fixtures/invalid1.env: line 7)", "# some comments\nfoo=\"\n  a\n  multine\n  value\n\"\nINVALID LINE\nzot=qix")
            .fails("test.env:7:"),
        env_file("parser_test.go TestParseVariable", "%!(EXTRA string)=foo").fails("invalid variable name `%!(EXTRA string)`"),
        case("godotenv_test.go TestGetEnvFromFile (an env file that is a directory)")
            .yaml("\nservices:\n  web:\n    image: x\n    env_file: env/dir.env\n")
            .file("env/dir.env/keep", "")
            .fails("dir.env"),
        case("types/project.go loadEnvFile (a required env_file that does not exist)")
            .yaml("\nservices:\n  web:\n    image: x\n    env_file: env/missing.env\n")
            .fails("missing.env"),
        case("types/project.go loadEnvFile (an optional env_file that does not exist)")
            .yaml("\nservices:\n  web:\n    image: x\n    env_file:\n      - path: env/missing.env\n        required: false\n")
            .loads(),
    ]);
    v
}

/// Which value wins: cli/options_test.go TestEnvVariablePrecedence, TestProjectWithDotEnv,
/// TestProjectWithMultipleEnvFile, dotenv/env_test TestMultipleFiles, and types/project.go
/// WithServicesEnvironmentResolved (environment over env_file).
fn precedence() -> Vec<Case> {
    vec![
        dot_env("options_test.go TestEnvVariablePrecedence (no value set in environment)", "FOO=foo\nBAR=${FOO}", &["FOO", "BAR"])
            .vals(&[("FOO", "foo"), ("BAR", "foo")]),
        dot_env("options_test.go TestEnvVariablePrecedence (conflict with value set in environment)", "FOO=foo\nBAR=${FOO}", &["FOO", "BAR"])
            .env(&[("FOO", "zot")])
            .vals(&[("FOO", "zot"), ("BAR", "zot")]),
        case("options_test.go TestProjectWithDotEnv")
            .yaml("\nservices:\n  simple:\n    image: nginx\n    ports:\n    - ${PUBLIC_PORT}:80\n")
            .raw_file(".env", "PUBLIC_PORT=8000\n")
            .text("/services/simple/ports/0/published", "8000"),
        case("options_test.go TestProjectWithMultipleEnvFile (--env-file twice; env_file files in order)")
            .yaml("\nservices:\n  web:\n    image: nginx\n    env_file:\n      - ./simple-env\n      - ./second-env\n    ports:\n    - ${PORT}:80\n")
            .raw_file("simple-env", "DEFAULT_PORT=8080\n")
            .raw_file("second-env", "DEFAULT_PORT=9090\n")
            .raw_file("a.env", "PORT=8000\n")
            .raw_file("override.env", "PORT=9000\n")
            .env_file("a.env")
            .env_file("override.env")
            .vals(&[("DEFAULT_PORT", "9090")])
            .text("/services/web/ports/0/published", "9000"),
        case("env_test.go TestMultipleFiles (a later --env-file interpolates with its own values)")
            .yaml("\nservices:\n  web:\n    image: x\n    environment: {H: $ENV_HOSTNAME, U: $ENV_MY_URL}\n")
            .raw_file("base.env", "\nENV_HOSTNAME=localhost\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n")
            .raw_file("override.env", "\nENV_HOSTNAME=dev.my-company.com\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n")
            .env_file("base.env")
            .env_file("override.env")
            .vals(&[("H", "dev.my-company.com"), ("U", "http://dev.my-company.com")]),
        case("env_test.go TestMultipleFiles (the process environment wins while interpolating)")
            .yaml("\nservices:\n  web:\n    image: x\n    environment: {U: $ENV_MY_URL}\n")
            .raw_file("base.env", "\nENV_HOSTNAME=localhost\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n")
            .raw_file("override.env", "\nENV_HOSTNAME=dev.my-company.com\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n")
            .env_file("base.env")
            .env_file("override.env")
            .env(&[("ENV_HOSTNAME", "host.local")])
            .vals(&[("U", "http://host.local")]),
        case("project.go WithServicesEnvironmentResolved (environment wins over env_file)")
            .yaml("\nservices:\n  web:\n    image: x\n    env_file: env/test.env\n    environment:\n      A: from-environment\n")
            .raw_file("env/test.env", "A=from-file\nB=only-file\n")
            .vals(&[("A", "from-environment"), ("B", "only-file")]),
        case("project.go WithServicesEnvironmentResolved (an env_file interpolates with the service's environment)")
            .yaml("\nservices:\n  web:\n    image: x\n    env_file: env/test.env\n    environment:\n      BASE: /srv\n")
            .raw_file("env/test.env", "DIR=${BASE}/data\n")
            .vals(&[("DIR", "/srv/data")]),
        case("project.go WithServicesEnvironmentResolved (a later env_file wins)")
            .yaml("\nservices:\n  web:\n    image: x\n    env_file: [env/a.env, env/b.env]\n")
            .raw_file("env/a.env", "A=1\nB=1\n")
            .raw_file("env/b.env", "B=2\n")
            .vals(&[("A", "1"), ("B", "2")]),
        case("project_test.go TestProject_WithServicesEnvironmentResolved (base)")
            .yaml("\nservices:\n  web:\n    image: x\n    environment:\n      FOO: foo_from_environment\n      BAR: bar_from_environment\n      QIX:\n    env_file: env/base.env\n")
            .raw_file("env/base.env", BASE_ENV)
            .env(&[("FOO", "FOO_from_os.env"), ("QIX", "QIX_from_os.env")])
            .vals(&[
                ("FOO", "foo_from_environment"),
                ("BAR", "bar_from_environment"),
                ("QIX", "QIX_from_os.env"),
                ("ZOT", "zot_from_base.env"),
                ("INTERPOLATED_FOO", "FOO_from_os.env"),
                ("INTERPOLATED_BAR", "bar_from_environment"),
                ("INTERPOLATED_ZOT", "zot_from_base.env"),
            ]),
        case("project_test.go TestProject_WithServicesEnvironmentResolved (override)")
            .yaml("\nservices:\n  web:\n    image: x\n    environment:\n      FOO: foo_from_environment\n    env_file: [env/base.env, env/override.env]\n")
            .raw_file("env/base.env", BASE_ENV)
            .raw_file("env/override.env", "FOO=foo_from_override.env\nINTERPOLATED_FOO=${FOO}\nBAR=bar_from_override.env\nINTERPOLATED_BAR=${BAR}\n")
            .env(&[("FOO", "FOO_from_os.env"), ("QIX", "QIX_from_os.env")])
            .vals(&[
                ("FOO", "foo_from_environment"),
                ("BAR", "bar_from_override.env"),
                ("ZOT", "zot_from_base.env"),
                ("INTERPOLATED_FOO", "FOO_from_os.env"),
                ("INTERPOLATED_BAR", "bar_from_override.env"),
                ("INTERPOLATED_ZOT", "zot_from_base.env"),
            ]),
        case("loader_test.go TestDiscardEnvFileOption (required: false on a present file)")
            .yaml("\nservices:\n  web:\n    image: nginx\n    env_file:\n      - example1.env\n      - path: example2.env\n        required: false\n")
            .raw_file("example1.env", "FOO=foo_from_env_file\nBAZ=baz_from_env_file\nBAR=bar_from_env_file\nENV.WITH.DOT=ok\nENV_WITH_UNDERSCORE=ok\n")
            .raw_file("example2.env", "BAR=bar_from_env_file_2\nQUX=quz_from_env_file_2\n")
            .vals(&[
                ("FOO", "foo_from_env_file"),
                ("BAZ", "baz_from_env_file"),
                ("BAR", "bar_from_env_file_2"),
                ("QUX", "quz_from_env_file_2"),
                ("ENV.WITH.DOT", "ok"),
                ("ENV_WITH_UNDERSCORE", "ok"),
            ]),
        case("env_file_test.go TestEnvFileLongSyntax / docker compose cmd/compose/compose.go rawEnv (format: raw)")
            .yaml("\nservices:\n  web:\n    image: x\n    env_file:\n      - path: env/raw.env\n        format: raw\n")
            .raw_file("env/raw.env", "A='quoted' $HOME\n")
            .vals(&[("A", "'quoted' $HOME")]),
    ]
}
