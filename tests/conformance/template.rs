//! Interpolation: compose-go's template/template_test.go and interpolation/interpolation_test.go.
//! Each template is put in a service's `environment` (as compose-go's interpolation tests do)
//! and the loaded value compared with what compose-go's `Substitute` returns.
//!
//! Skipped (Go API, nothing a stack file can show): TestSubstituteWithCustomFunc,
//! TestSubstituteWithReplacementFunc, TestSubstituteWithReplacementAppliedFunc (custom Go
//! substitution functions; their last assertion, `${SUBDOMAIN:-redis}.${FOO:?}`, is kept),
//! TestSubstitutionFunctionChoice (an internal helper's return value; its effect is covered by
//! TestPrecedence), variables_test.go TestExtractVariables (a Go helper listing variables),
//! interpolation_test.go TestPathMatches (the Go tree.Path type), TestInterpolateWithCast (the
//! Go cast hook; the YAML-visible casts are in loader.rs, TestLoadWithInterpolationCastFull).

use super::{case, dedent, js, Case};

/// The variables of template_test.go's `defaults`.
const DEFAULTS: &[(&str, &str)] = &[("FOO", "first"), ("BAR", ""), ("JSON", "{\"json\":2}")];

/// A YAML single-quoted scalar.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn stack(template: &str) -> String {
    dedent(&format!("\nservices:\n  web:\n    image: x\n    environment:\n      V: {}\n", quoted(template)))
}

/// `template` substitutes to `want` with template_test.go's variables.
fn sub(source: &str, template: &str, want: &str) -> Case {
    sub_env(source, template, want, DEFAULTS)
}

fn sub_env(source: &str, template: &str, want: &str, env: &[(&str, &str)]) -> Case {
    case(source).yaml(&stack(template)).env(env).at("/services/web/environment/V", js(want))
}

/// `template` is an error containing `want`.
fn err(source: &str, template: &str, want: &str) -> Case {
    case(source).yaml(&stack(template)).env(DEFAULTS).fails(want)
}

pub fn cases() -> Vec<Case> {
    let mut v = vec![
        sub("template_test.go TestEscaped", "$${foo}", "${foo}"),
        sub("template_test.go TestSubstituteNoMatch", "foo", "foo"),
        sub("template_test.go TestNonBraced", "$FOO-bar", "first-bar"),
        sub("template_test.go TestValueNoDefault ($FOO)", "This $FOO var", "This first var"),
        sub("template_test.go TestValueNoDefault (${FOO})", "This ${FOO} var", "This first var"),
        sub("template_test.go TestNoValueNoDefault (${missing})", "This ${missing} var", "This  var"),
        sub("template_test.go TestNoValueNoDefault (${BAR}, set empty)", "This ${BAR} var", "This  var").quiet(),
        sub("template_test.go TestNoValueWithDefault (:-)", "ok ${missing:-def}", "ok def"),
        sub("template_test.go TestNoValueWithDefault (-)", "ok ${missing-def}", "ok def"),
        sub("template_test.go TestEmptyValueWithSoftDefault", "ok ${BAR:-def}", "ok def"),
        sub("template_test.go TestValueWithSoftDefault", "ok ${FOO:-def}", "ok first"),
        sub("template_test.go TestEmptyValueWithHardDefault", "ok ${BAR-def}", "ok "),
        sub("template_test.go TestPresentValueWithUnset", "ok ${UNSET_VAR:+presence_value}", "ok "),
        sub("template_test.go TestPresentValueWithUnset2", "ok ${UNSET_VAR+presence_value}", "ok "),
        sub("template_test.go TestPresentValueWithNonEmpty", "ok ${FOO:+presence_value}", "ok presence_value"),
        sub(
            "template_test.go TestPresentValueAndNonEmptyWithNonEmpty",
            "ok ${FOO+presence_value}",
            "ok presence_value",
        ),
        sub("template_test.go TestPresentValueWithSet", "ok ${BAR+presence_value}", "ok presence_value"),
        sub("template_test.go TestPresentValueAndNotEmptyWithSet", "ok ${BAR:+presence_value}", "ok "),
        sub("template_test.go TestNonAlphanumericDefault", "ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric"),
        sub("template_test.go TestLazyDefaultDoesNotWarn", "${A:+${A},}B", "B").quiet(),
        sub("template_test.go TestLazyDefaultWarnsWhenUsed", "${A:-${B}}", "").warns_unset("B"),
        sub_env("template_test.go TestLazyRequiredMessageDoesNotWarn", "${A?${B}}", "value", &[("A", "value")]).quiet(),
        sub(
            "template_test.go TestNoValueWithCurlyBracesDefault (:-)",
            r#"ok ${missing:-{"json":1}}"#,
            r#"ok {"json":1}"#,
        ),
        sub(
            "template_test.go TestNoValueWithCurlyBracesDefault (-)",
            r#"ok ${missing-{"json":1}}"#,
            r#"ok {"json":1}"#,
        ),
        sub("template_test.go TestValueWithCurlyBracesDefault (:-)", r#"ok ${JSON:-{"json":1}}"#, r#"ok {"json":2}"#),
        sub("template_test.go TestValueWithCurlyBracesDefault (-)", r#"ok ${JSON-{"json":1}}"#, r#"ok {"json":2}"#),
        sub("template_test.go TestDefaultsForMandatoryVariables (:?)", "ok ${FOO:?err}", "ok first"),
        sub("template_test.go TestDefaultsForMandatoryVariables (?)", "ok ${FOO?err}", "ok first"),
        sub("template_test.go TestDefaultsForMandatoryVariables (? on empty)", "ok ${BAR?err}", "ok "),
        sub("template_test.go TestPrecedence (- before ?)", "${UNSET_VAR-myerror?msg}", "myerror?msg"),
        sub("template_test.go TestPrecedence (? on a set variable)", "${FOO?bar-baz}", "first"),
        sub(
            "template_test.go TestPrecedence (:- on an empty variable)",
            "${BAR:-default_value_for_empty_var}",
            "default_value_for_empty_var",
        ),
        sub(
            "template_test.go TestPrecedence (- on an unset variable)",
            "${UNSET_VAR-default_value_for_unset_var}",
            "default_value_for_unset_var",
        ),
        err("template_test.go TestPrecedence (? before -)", "${UNSET_VAR?bar-baz}", "bar-baz"),
        sub(
            "template_test.go TestSubstituteWithReplacementFunc (DefaultPattern)",
            "ok ${SUBDOMAIN:-redis}.${FOO:?}",
            "ok redis.first",
        ),
        err(
            "template_test.go TestMandatoryVariableErrors (:? unset)",
            "not ok ${UNSET_VAR:?Mandatory Variable Unset}",
            "Mandatory Variable Unset",
        ),
        err(
            "template_test.go TestMandatoryVariableErrors (:? empty)",
            "not ok ${BAR:?Mandatory Variable Empty}",
            "Mandatory Variable Empty",
        ),
        err("template_test.go TestMandatoryVariableErrors (:? no message)", "not ok ${UNSET_VAR:?}", "UNSET_VAR"),
        err(
            "template_test.go TestMandatoryVariableErrors (? unset)",
            "not ok ${UNSET_VAR?Mandatory Variable Unset}",
            "Mandatory Variable Unset",
        ),
        err("template_test.go TestMandatoryVariableErrors (? no message)", "not ok ${UNSET_VAR?}", "UNSET_VAR"),
        err(
            "template_test.go TestMandatoryVariableErrorsWithNestedExpansion (:?)",
            "not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
            "Mandatory Variable first",
        ),
        err(
            "template_test.go TestMandatoryVariableErrorsWithNestedExpansion (?)",
            "not ok ${UNSET_VAR?Mandatory Variable ${FOO}}",
            "Mandatory Variable first",
        ),
    ];
    for t in ["a $ string", "^REGEX$", "$}", "$", "echo $(date)", "cost $5", "100%$", "$-x", "a$ b"] {
        v.push(sub(&format!("template_test.go TestUnescaped (`{t}`)"), t, t));
    }
    for t in ["${", "${}", "${ }", "${ foo}", "${foo }", "${foo!}", "x${", "${FOO:-x"] {
        v.push(err(&format!("template_test.go TestInvalid (`{t}`)"), t, "invalid interpolation"));
    }
    let nested = [
        ("ok ${UNSET_VAR-$FOO}", "ok first"),
        ("ok ${UNSET_VAR-${FOO}}", "ok first"),
        ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR:-$FOO}", "ok first"),
        ("ok ${BAR:-${FOO}}", "ok first"),
        ("ok ${BAR:-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR+$FOO}", "ok first"),
        ("ok ${BAR+$FOO ${FOO:+second}}", "ok first second"),
    ];
    for (t, want) in nested {
        v.push(sub(&format!("template_test.go TestDefaultsWithNestedExpansion (`{t}`)"), t, want));
    }
    let outer = [
        ("-ok ${BAR:-defaultValue}", "-ok defaultValue"),
        ("+ok ${UNSET:-${BAR-defaultValue}}", "+ok "),
        ("-ok ${FOO:-defaultValue}", "-ok first"),
        (":-ok ${UNSET-defaultValue}", ":-ok defaultValue"),
        (":-ok ${BAR-defaultValue}", ":-ok "),
        (":?ok ${BAR-defaultValue}", ":?ok "),
        (":?ok ${BAR:-defaultValue}", ":?ok defaultValue"),
        (":+ok ${BAR:-defaultValue}", ":+ok defaultValue"),
        ("+ok ${BAR-defaultValue}", "+ok "),
        ("?ok ${BAR:-defaultValue}", "?ok defaultValue"),
    ];
    for (t, want) in outer {
        v.push(sub(&format!("template_test.go TestInterpolationExternalInterference (`{t}`)"), t, want));
    }
    v.extend(interpolation());
    v.extend(project_name());
    v
}

/// interpolation/interpolation_test.go: the same substitutions, in every part of a file.
fn interpolation() -> Vec<Case> {
    // USER, FOO as that file's `defaults`.
    let env: &[(&str, &str)] = &[("USER", "jenny"), ("FOO", "bar")];
    let mut v = vec![
        case("interpolation_test.go TestInterpolate (image, volumes, logging)")
            .yaml(
                r#"
                services:
                  servicea:
                    image: example:${USER}
                    volumes: ["$FOO:/target"]
                    logging:
                      driver: ${FOO}
                      options:
                        user: $USER
                volumes:
                  bar: {}
                "#,
            )
            .env(env)
            .text("/services/servicea/image", "example:jenny")
            .text("/services/servicea/volumes/0/source", "bar")
            .text("/services/servicea/logging/driver", "bar")
            .text("/services/servicea/logging/options/user", "jenny"),
        case("interpolation_test.go TestInvalidInterpolation (names the key)")
            .yaml("\nservices:\n  servicea:\n    image: \"${\"\n")
            .fails("services.servicea.image"),
        case("interpolation_test.go TestInterpolateWithDefaults (top-level sections)")
            .yaml(
                r#"
                services:
                  web: {image: x, networks: [foo]}
                networks:
                  foo:
                    name: thing_${FOO}
                "#,
            )
            .env(&[("FOO", "BARZ")])
            .text("/networks/foo/name", "thing_BARZ"),
    ];
    let unset = [
        ("{{{ ${FOO:-foo_} }}}", "{{{ foo_ }}}"),
        ("{{{ ${FOO:-foo-bar-value} }}}", "{{{ foo-bar-value }}}"),
        ("{{{ ${FOO:-foo?bar?value} }}}", "{{{ foo?bar?value }}}"),
        ("{{{ ${FOO:-foo:?bar:?value} }}}", "{{{ foo:?bar:?value }}}"),
        ("{{{ ${FOO:-foo} ${BAR:-DEFAULT_VALUE} }}}", "{{{ foo DEFAULT_VALUE }}}"),
        ("{{{ ${BAR} }}}", "{{{  }}}"),
        ("${FOO:-baz} }}}", "baz }}}"),
        ("${FOO-baz} }}}", "baz }}}"),
        ("${FOO:-${BAR:-${ZOT:-qix}}}", "qix"),
        ("${FOO:-${BAR:-x}_test_${BAR:-y}}", "x_test_y"),
        ("${FOO:-${BAR:-x}_test}", "x_test"),
        ("${FOO:-${BAR:-${ZOT:-x}}_test}", "x_test"),
    ];
    for (t, want) in unset {
        v.push(sub_env(&format!("interpolation_test.go TestValidUnexistentInterpolation (`{t}`)"), t, want, &[]));
    }
    let required = [
        ("{{{ ${FOO:?foo_} }}}", "foo_"),
        ("{{{ ${FOO:?foo-bar-value} }}}", "foo-bar-value"),
        ("{{{ ${FOO:?foo} ${BAR:-DEFAULT_VALUE} }}}", "FOO` is missing a value: foo"),
        ("${FOO:?foo} ${BAR:?bar}", "FOO` is missing a value: foo"),
        ("${FOO:?baz} }}}", "baz"),
        ("${FOO?baz} }}}", "baz"),
    ];
    for (t, want) in required {
        v.push(
            case(&format!("interpolation_test.go TestValidUnexistentInterpolation (`{t}` fails)"))
                .yaml(&stack(t))
                .fails(want),
        );
    }
    let existent = [
        ("{{{ ${FOO:-foo_} }}}", "{{{ bar }}}"),
        ("{{{ ${FOO:-foo} ${BAR:-DEFAULT_VALUE} }}}", "{{{ bar DEFAULT_VALUE }}}"),
        ("{{{ ${FOO:-foo} ${USER:-bar} }}}", "{{{ bar jenny }}}"),
        ("{{{ ${USER} }}}", "{{{ jenny }}}"),
        ("${FOO-baz} }}}", "bar }}}"),
    ];
    for (t, want) in existent {
        v.push(sub_env(&format!("interpolation_test.go TestValidExistentInterpolation (`{t}`)"), t, want, env));
    }
    v
}

/// `${COMPOSE_PROJECT_NAME}` (loader_test.go TestProjectNameInterpolation, TestLoadProjectName).
fn project_name() -> Vec<Case> {
    vec![
        case("loader_test.go TestProjectNameInterpolation (simple)")
            .yaml("\nname: interpolated\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n")
            .text("/services/web/container_name", "interpolated-web")
            .text("/name", "interpolated"),
        case("loader_test.go TestProjectNameInterpolation (with override)")
            .stack_file("a.yaml", "\nname: interpolated\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n")
            .stack_file("b.yaml", "\nname: overrided\nservices:\n  db:\n    image: db\n    container_name: ${COMPOSE_PROJECT_NAME}-db\n")
            .stack_file("c.yaml", "\nservices:\n  proxy:\n    image: proxy\n    container_name: ${COMPOSE_PROJECT_NAME}-proxy\n")
            .text("/services/web/container_name", "overrided-web")
            .text("/services/db/container_name", "overrided-db")
            .text("/services/proxy/container_name", "overrided-proxy"),
        case("loader_test.go TestProjectNameInterpolation (project name override)")
            .yaml("\nname: another_name\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n")
            .project("interpolated")
            .text("/services/web/container_name", "interpolated-web"),
        case("loader_test.go TestLoadProjectName (from options, no name in the file)")
            .yaml("\nservices:\n  web:\n    image: web\n    container_name: ${COMPOSE_PROJECT_NAME}-web\n")
            .project("testproject")
            .text("/name", "testproject")
            .text("/services/web/container_name", "testproject-web"),
    ]
}

trait WarnsUnset {
    fn warns_unset(self, var: &str) -> Case;
}

impl WarnsUnset for Case {
    /// compose-go logs "The \"VAR\" variable is not set. Defaulting to a blank string."
    fn warns_unset(self, var: &str) -> Case {
        let super::Expect::Model(checks) = self.expect.clone() else { return self };
        let checks: Vec<(&str, &str)> = checks.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        self.clone().warns(&format!("variable `{var}` is not set"), &checks)
    }
}
