package io.patu.policy.internal;

/**
 * Why an object or a whole file was not applied, as {@code patu:policies} shows it.
 *
 * @param file   the file, relative to the policy directory
 * @param object {@code Kind namespace/name}, or {@code document N} when the object has no usable name, or
 *               empty for a file that did not parse
 * @param field  the field at fault ({@code spec.ingress[0].ports[1].endPort}), or empty
 */
record Problem(String file, String object, String field, String message) {
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder(file);
        if (!object.isEmpty()) {
            out.append(": ").append(object);
        }
        if (!field.isEmpty()) {
            out.append(": ").append(field);
        }
        return out.append(": ").append(message).toString();
    }
}
