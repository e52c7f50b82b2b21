extends CharacterBody2D
class_name Player
## Simple platformer player controller.

signal health_changed(new_value: int)
signal died

enum State { IDLE, RUNNING, JUMPING, FALLING }

const SPEED := 220.0
const JUMP_VELOCITY := -420.0
const MAX_HEALTH = 5

@export var gravity_scale: float = 1.0
@export var sprite_path: NodePath
@onready var sprite: AnimatedSprite2D = $AnimatedSprite2D

var health: int = MAX_HEALTH
var state: State = State.IDLE
var inventory := {"coins": 0, "keys": []}


func _ready() -> void:
	health_changed.emit(health)
	print("Player ready at ", position)


func _physics_process(delta: float) -> void:
	if not is_on_floor():
		velocity.y += get_gravity().y * gravity_scale * delta

	if Input.is_action_just_pressed("jump") and is_on_floor():
		velocity.y = JUMP_VELOCITY

	var direction := Input.get_axis("move_left", "move_right")
	if direction != 0:
		velocity.x = direction * SPEED
		sprite.flip_h = direction < 0
	else:
		velocity.x = move_toward(velocity.x, 0, SPEED)

	_update_state()
	move_and_slide()


func _update_state() -> void:
	match state:
		State.IDLE, State.RUNNING:
			if velocity.y < 0:
				state = State.JUMPING
			elif abs(velocity.x) > 1.0:
				state = State.RUNNING
			else:
				state = State.IDLE
		State.JUMPING:
			if velocity.y >= 0:
				state = State.FALLING
		_:
			if is_on_floor():
				state = State.IDLE


func take_damage(amount: int = 1) -> void:
	health = max(health - amount, 0)
	health_changed.emit(health)
	if health == 0:
		died.emit()
		queue_free()


func collect(item_name: String) -> bool:
	for key in inventory.keys():
		if key == item_name:
			inventory[key] += 1
			return true
	push_warning("Unknown item: %s" % item_name)
	return false
