/* The OpenAPI document (src/api/openapi.json) as read-only bytes in the
 * binary: sb_openapi_json .. sb_openapi_json_end (no NUL). */
    .section .rodata
    .global sb_openapi_json
    .global sb_openapi_json_end
sb_openapi_json:
    .incbin "src/api/openapi.json"
sb_openapi_json_end:
    .section .note.GNU-stack,"",@progbits
